# A case's own series (DIR/data/CASE/*.csv, one column per series), drawn as
# plots/data_files.toml says: the columns named in ycols (space-separated) as
# steps over the column named in xcol. Without them: every column over the
# first. (Not x and y: inside `plot`, x is gnuplot's dummy variable.)
#
#   gnuplot -c plots/timeseries.gp file=DIR/data/CASE/x.csv out=DIR/plots/x xcol=t_s 'ycols=a b' 'title=...' ...
# Variables come as name=value arguments (gnuplot -c SCRIPT name=value ..., plots/gbresults.py gnuplot()):
# the next line assigns them by reference, so a value is always data, never code.
do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); eval a[1:p-1]." = value(\"ARG".i."\")[".(p+1).":]" }
if (!exists("file") || !exists("out")) { print "timeseries.gp: set file='...csv'; out='PATH'"; exit status 2 }
if (!exists("title")) title = ""
if (!exists("xlabel")) xlabel = "time (s)"
if (!exists("ylabel")) ylabel = ""
if (!exists("dir")) dir = ""
load dir."common.gp"
set datafile columnheaders
stats file every ::0::0 using 1 nooutput
ncols = STATS_columns
set xlabel xlabel noenhanced
set ylabel ylabel noenhanced
set title title
set key outside right top
do for [fmt in formats] {
	if (fmt eq "png") { set terminal pngcairo size 1100,500 font ",11" }
	if (fmt eq "svg") { set terminal svg size 1100,500 font ",11" }
	if (fmt eq "pdf") { set terminal pdfcairo size 8in,3.6in font ",9" }
	set output out.".".fmt
	if (exists("xcol") && exists("ycols")) {
		plot for [c in ycols] file using (column(xcol)):(column(c)) with steps title c
	} else {
		plot for [c=2:ncols] file using 1:c with steps title columnhead(c)
	}
	unset output
}
