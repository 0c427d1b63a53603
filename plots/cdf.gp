# Latency tails: the share of samples at or above each latency (1 - CDF,
# log-log), one series per histogram file, from the histogram's cumulative
# column: at a bucket's low edge, (total - cumulative + count) / total, which
# is never 0, so every series has points on a log axis.
#
#   gnuplot -e "files='...'; titles='...'; out='DIR/plots/x'; title='...'" plots/cdf.gp
if (!exists("files")) { print "cdf.gp: set files='DIR/hist/CASE.csv ...'"; exit status 2 }
if (!exists("titles")) titles = files
if (!exists("out")) { print "cdf.gp: set out='PATH' (without extension)"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("dir")) dir = ""
load dir."common.gp"
set logscale xy
set format x "%g"
set format y "10^{%L}"
set xlabel "latency (us)"
set ylabel "share of samples at or above"
set title title
set key bottom left
array total[words(files)]
do for [i=1:words(files)] {
	stats word(files, i) skip 1 using 4 nooutput
	total[i] = STATS_max
}
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,650 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,650 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.7in font ",9" }
	set output out.".".fmt
	plot for [i=1:words(files)] word(files, i) skip 1 \
		using ($1 / 1000.0):((total[i] - $4 + $3) / total[i]) with steps title word(titles, i)
	unset output
}
