/* main.c — the apron binary: dispatches subcommands. The only code that calls exit(). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: apron serve|run|wasm ...\n");
        return 2;
    }
    fprintf(stderr, "apron: unknown command '%s'\n", argv[1]);
    return 2;
}
