# A paper's figure or table as grouped bars: one group per row of a CSV that
# figures.py wrote (its first column, the group's label), one bar per other
# column (its header is the legend): vLibOS Figure 6's slowdown per U and
# configuration, and this machine beside each paper number.
#
#   gnuplot -c plots/bars.gp file=DIR/plots/fig.csv out=DIR/plots/fig 'title=...' 'ylabel=...' 'axes=logy rotate'
# axes: words, any of: logy (a log y axis, for values that span decades),
# rotate (long group labels, slanted), zero (a line at y = 0).
# Optional: xlabel, formats='png svg pdf'.
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("file") || !exists("out")) { print "bars.gp: set file='...csv'; out='PATH'"; exit status 2 }
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
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid noxtics
if (has("logy")) { set logscale y; set format y "%g" }
# linear bars start at 0 (or below it, for negative values)
if (!has("logy")) { set yrange [*<0:*] }
# room above the tallest bar for its label
set offsets 0, 0, graph 0.08, 0
if (has("rotate")) { set xtics rotate by -30 left noenhanced nomirror; set bmargin 10; set rmargin 12 } \
else { set xtics noenhanced nomirror }
if (has("zero")) { set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb "#444444" }
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,650 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,650 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.7in font ",9" }
	set output out.".".fmt
	# each bar carries its value as the CSV writes it; bar c of a group sits (c - 2 - (n - 1) / 2) / (n + 1) from the group's centre
	plot for [c=2:ncols] file using c:xtic(1) ls (c - 1) title columnhead(c), \
	     for [c=2:ncols] file using ($0 + (c - 2 - (ncols - 2) / 2.0) / ncols):(column(c)): \
		(strcol(c)) with labels offset 0, 0.7 font ",9" notitle
	unset output
}
