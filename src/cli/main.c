/* main.c — the apron binary: dispatches subcommands. The only code that calls exit(). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `apron run FILE.wasm --op NAME ...`: one waPC invocation (run_cmd.c). */
int ap_cli_run(int argc, char **argv);

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"wasm", ap_cli_wasm},
    {"serve", ap_cli_serve},
    {"run", ap_cli_run},
};

/* The usage text: asked for (`apron --help`, `-h`, `help`) on stdout with status 0, after a
 * mistake on stderr with status 2. */
static int usage(FILE *out)
{
    fprintf(out,
            "usage: apron serve [--config FILE] [--listen ADDR:PORT] [--functions TARMAC.JSON]\n"
            "                   [--print-config]\n"
            "       apron wasm [--env NAME=VALUE]... FILE.wasm [ARG...]\n"
            "       apron wasm FILE.wasm --invoke NAME [ARG...]\n"
            "       apron run FILE.wasm --op NAME [--data TEXT | --data-file PATH]\n"
            "       apron help | --help | -h\n");
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        exit(usage(stderr));
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0)
        exit(usage(stdout));
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            exit(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "apron: unknown command '%s'\n", argv[1]);
    exit(usage(stderr));
}
