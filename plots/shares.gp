# CPU shares over time (the CPU service manager's DIR/data/CASE/utilization.csv:
# window, t_start_s, app, priority, target_share, measured_share, share_error):
# each app's measured share per window as a line, its target dashed; with
# othercol=COLUMN (figures.py), that column of app 1's rows too (taken_share:
# the CPU the disturbance took from the apps), as grey boxes.
#
#   gnuplot -c plots/shares.gp file=DIR/data/CASE/utilization.csv out=DIR/plots/x 'title=...'
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("file") || !exists("out")) { print "shares.gp: set file='...csv'; out='PATH'"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("dir")) dir = ""
if (!exists("othercol")) othercol = ""
load dir."common.gp"
set datafile columnheaders
stats file using (column("app")) nooutput
napps = int(STATS_max)
set xlabel "time (s)"
set ylabel "CPU share"
set yrange [0:*]
set title title
set key outside right top
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,500 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,500 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,3.6in font ",9" }
	set output out.".".fmt
	if (othercol ne "") {
		set style fill transparent solid 0.25 noborder
		plot file using (column("t_start_s")):(column("app") == 1 ? column(othercol) : NaN) \
			with boxes lc rgb "#808080" title "taken from the apps (disturbance)", \
		     for [a=1:napps] file using (column("t_start_s")):(column("app") == a ? column("measured_share") : NaN) \
			with linespoints ls a pt 7 ps 0.6 title sprintf("app %d measured", a), \
		     for [a=1:napps] file using (column("t_start_s")):(column("app") == a ? column("target_share") : NaN) \
			with lines ls a dt 2 title sprintf("app %d target", a)
	} else {
		plot for [a=1:napps] file using (column("t_start_s")):(column("app") == a ? column("measured_share") : NaN) \
			with linespoints ls a pt 7 ps 0.6 title sprintf("app %d measured", a), \
		     for [a=1:napps] file using (column("t_start_s")):(column("app") == a ? column("target_share") : NaN) \
			with lines ls a dt 2 title sprintf("app %d target", a)
	}
	unset output
}
