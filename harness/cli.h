/* The harness subcommands; main.c only dispatches to these. */
#pragma once

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_ab(int argc, char **argv);
