/* cli.h — the apron binary's subcommands. Each takes main's argc/argv shifted so that argv[0] is
 * the subcommand's name, and returns the process exit status; only main.c calls exit(). */
#ifndef AP_CLI_H
#define AP_CLI_H

/* `apron wasm FILE.wasm [--invoke NAME [ARG...]]`: runs one module (wasm_cmd.c). */
int ap_cli_wasm(int argc, char **argv);

/* `apron serve [--config FILE] [--listen ADDR:PORT] [--functions TARMAC.JSON]`: the function
 * server (serve.c). */
int ap_cli_serve(int argc, char **argv);

#endif
