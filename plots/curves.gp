# A paper's figure as curves: one line per series over a swept parameter
# (cost vs working set per transport, wake-up error vs requested sleep).
# Reads a CSV that figures.py wrote: the first column is x, every other
# column one series (its header is the legend); an empty cell is no point.
#
#   gnuplot -c plots/curves.gp file=DIR/plots/fig.csv out=DIR/plots/fig 'title=...' 'xlabel=...' 'ylabel=...' \
#           'axes=category logy'
# axes: words, any of: category (x values evenly spaced, labelled as written: a
# sweep with 0 in it), logx, logy. Optional: formats='png svg pdf'.
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("file") || !exists("out")) { print "curves.gp: set file='...csv'; out='PATH'"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("xlabel")) xlabel = ""
if (!exists("ylabel")) ylabel = ""
if (!exists("axes")) axes = ""
if (!exists("dir")) dir = ""
load dir."common.gp"
has(w) = strstrt(" ".axes." ", " ".w." ") > 0
set datafile columnheaders
stats file every ::0::0 using (0) nooutput
ncols = STATS_columns
set xlabel xlabel noenhanced
set ylabel ylabel noenhanced
set title title
set key below
if (has("logy")) { set logscale y; set format y "%g" }
if (has("logx")) { set logscale x; set format x "%g" }
if (has("category")) { set offsets 0.3, 0.3, 0, 0 }
set style line 1 pt 7
set style line 2 pt 5
set style line 3 pt 9
set style line 4 pt 11
set style line 5 pt 13
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,600 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,600 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.4in font ",9" }
	set output out.".".fmt
	if (has("category")) {
		plot for [c=2:ncols] file using 0:c:xtic(1) with linespoints ps 1.2 title columnhead(c)
	} else {
		plot for [c=2:ncols] file using 1:c with linespoints ps 1.2 title columnhead(c)
	}
	unset output
}
