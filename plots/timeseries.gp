# A case's own time series (DIR/data/CASE/*.csv in wide form: the first
# column is time in seconds, each further column one series, e.g. packets
# per task per interval): one line per column, titled by its header.
#
#   gnuplot -e "file='DIR/data/CASE/x.csv'; out='DIR/plots/x'; title='...'; ylabel='...'" plots/timeseries.gp
if (!exists("file") || !exists("out")) { print "timeseries.gp: set file='...csv'; out='PATH'"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("ylabel")) ylabel = ""
if (!exists("dir")) dir = ""
load dir."common.gp"
set datafile columnheaders
stats file every ::0::0 using 1 nooutput
ncols = STATS_columns
set xlabel "time (s)"
set ylabel ylabel noenhanced
set title title
set key outside right top
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,500 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,500 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,3.6in font ",9" }
	set output out.".".fmt
	plot for [c=2:ncols] file using 1:c with steps title columnhead(c)
	unset output
}
