# This machine beside the papers: for every case with a reference, the ratio
# of the case's statistic to the paper's number (log scale; 1 = the same), in
# the paper's unit (cycles for cycle rows) and in time where the paper's
# clock is known. Reads summary.csv.
#
#   gnuplot -c plots/paper.gp summary=DIR/summary.csv out=DIR/plots/paper
# Optional: prefix='uls.' keeps the rows of one paper (reference ids start with it);
# title='...'.
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("summary")) { print "paper.gp: set summary='DIR/summary.csv'"; exit status 2 }
if (!exists("out")) { print "paper.gp: set out='PATH' (without extension)"; exit status 2 }
if (!exists("prefix")) prefix = ""
if (!exists("title")) title = "this machine beside the papers"
if (!exists("dir")) dir = ""
load dir."common.gp"
set logscale y
set ylabel "this machine / paper"
set xtics rotate by -30 left noenhanced nomirror
set style fill solid 0.8 border -1
set boxwidth 0.4
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#444444"
set bmargin 10
set tmargin 5
set datafile columnheaders
set key outside top center horizontal
# Rows with a ratio get places 1..nref on the x axis (n and m count them);
# the others go to x = -10, outside the range.
# a row takes part when it has a ratio and, with a prefix, names a reference of that paper
keep(dummy) = strcol("ref_ratio") ne "" && (prefix eq "" || strstrt(strcol("reference"), prefix) == 1)
set title title noenhanced
stats summary using (keep(0) ? 1 : NaN) nooutput
nref = STATS_records
if (nref == 0) { print "paper.gp: no case of ", summary, " names a reference", (prefix eq "" ? "" : " of ".prefix); exit status 0 }
set xrange [0.4:nref + 0.6]
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,650 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,650 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.7in font ",9" }
	set output out.".".fmt
	n = 0; m = 0
	plot summary using (keep(0) ? (n = n + 1, n - 0.2) : -10):(keep(0) ? column("ref_ratio") : NaN): \
		xtic(keep(0) ? strcol("case") : "") with boxes title "same cycles? (in the paper's unit)", \
	     summary using (keep(0) ? (m = m + 1, m + 0.2) : -10): \
		(keep(0) && strcol("ref_ratio_time") ne "" ? column("ref_ratio_time") : NaN) \
		with boxes title "same time? (where the paper's clock is known)"
	unset output
}
