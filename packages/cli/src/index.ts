// The operator's CLI (libcli behaviour over telnet): see docs/cli.md.
export {};
