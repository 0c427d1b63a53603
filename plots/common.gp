# Shared by the plot scripts: output formats and style.
# Variables: out (path without extension), formats (default "png svg"; "pdf" too).
if (!exists("formats")) formats = "png svg"
set datafile separator comma
set grid xtics ytics mxtics lc rgb "#dddddd"
set border lc rgb "#444444"
set key noenhanced
set title noenhanced
set style line 1 lc rgb "#1f77b4" lw 2
set style line 2 lc rgb "#d62728" lw 2
set style line 3 lc rgb "#2ca02c" lw 2
set style line 4 lc rgb "#ff7f0e" lw 2
set style line 5 lc rgb "#9467bd" lw 2
set style line 6 lc rgb "#8c564b" lw 2
set style line 7 lc rgb "#e377c2" lw 2
set style line 8 lc rgb "#7f7f7f" lw 2
set style increment user
