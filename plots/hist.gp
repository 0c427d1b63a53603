# Paper-style latency histogram: occurrences (log scale) over latency, one
# series per histogram file, overlaid (the model is Karma's figures 3-8).
# Buckets are log-linear, so counts are shown per microsecond of bucket width
# (the shape does not change where bucket widths do), one point per non-empty
# bucket: a line would bridge empty stretches that hold no sample at all.
#
#   gnuplot -c plots/hist.gp histdir=DIR/hist/ 'cases=a b' out=DIR/plots/x 'title=...'
# Optional: logx=0 (a linear latency axis, as the papers draw it), formats='png svg pdf'.
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("cases") || !exists("histdir")) { print "hist.gp: set histdir=DIR/hist/ cases='CASE ...'"; exit status 2 }
if (!exists("titles")) titles = cases
# case names hold no spaces (the harness keeps [A-Za-z0-9._=-]); the folder may
file(i) = histdir.word(cases, i).".csv"
if (!exists("out")) { print "hist.gp: set out='PATH' (without extension)"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("logx")) logx = 1
if (!exists("dir")) dir = ""
load dir."common.gp"
set logscale y
if (logx) { set logscale x; set format x "%g" }
set xlabel "latency (us)"
set ylabel "occurrences per us of latency"
set title title
set key top right
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,650 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,650 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,4.7in font ",9" }
	set output out.".".fmt
	plot for [i=1:words(cases)] file(i) skip 1 \
		using (($1 + $2 + 1) / 2000.0):($3 * 1000.0 / ($2 - $1 + 1)) with points pt 7 ps 0.5 title word(titles, i)
	unset output
}
