/* hermod: one binary, many subcommands. */
#include <stdio.h>
#include <string.h>

#include "hermod_version.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "version") == 0) {
		printf("hermod %s\n", HERMOD_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: hermod version\n");
	return 2;
}
