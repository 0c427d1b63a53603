# Latency tails: the share of samples at or above each latency (1 - CDF,
# log-log), one series per histogram file, from the histogram's cumulative
# column: at a bucket's low edge, (total - cumulative + count) / total, which
# is never 0, so every series has points on a log axis.
#
#   gnuplot -c plots/cdf.gp histdir=DIR/hist/ 'cases=a b' out=DIR/plots/x 'title=...'
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("cases") || !exists("histdir")) { print "cdf.gp: set histdir=DIR/hist/ cases='CASE ...'"; exit status 2 }
if (!exists("titles")) titles = cases
# case names hold no spaces (the harness keeps [A-Za-z0-9._=-]); the folder may
file(i) = histdir.word(cases, i).".csv"
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
array total[words(cases)]
do for [i=1:words(cases)] {
	stats file(i) skip 1 using 4 nooutput
	total[i] = STATS_max
}
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,650 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,650 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.7in font ",9" }
	set output out.".".fmt
	plot for [i=1:words(cases)] file(i) skip 1 \
		using ($1 / 1000.0):((total[i] - $4 + $3) / total[i]) with steps title word(titles, i)
	unset output
}
