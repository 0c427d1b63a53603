# A case over time: p50 and p99 per recorded run, labelled by git revision.
#   gnuplot -c plots/history.gp data=x.csv out=x title=case dir=plots/   (history.py, through gbresults.gnuplot)
# The first line takes name=value arguments as data (gbresults.GNUPLOT_ARGS_LINE): never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("data") || !exists("out")) { print "history.gp: set data='PATH.csv'; out='PATH'"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("dir")) dir = ""
load dir."common.gp"
set datafile columnheaders
set logscale y
set ylabel "latency (ns)"
set xlabel "run (git revision)"
set xtics rotate by -30 left noenhanced
set title title
set key top left
set bmargin 8
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,600 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,600 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.4in font ",9" }
	set output out.".".fmt
	plot data using 0:(column("p50_ns")):xtic(strcol("git_revision")) with linespoints pt 7 title "p50", \
	     data using 0:(column("p99_ns")) with linespoints pt 7 title "p99"
	unset output
}
