/* hermod convert: conversions implemented outside cmd_convert.c, which
 * lists them in its table. */
#ifndef CMD_CMD_CONVERT_H
#define CMD_CMD_CONVERT_H

/* hermod convert mime2mapi / mapi2mime (cmd_convert_mime.c). argv[0] is
 * the conversion's name. Return the exit status: 0, 1 failure, 2 usage. */
int cmd_convert_mime2mapi(int argc, char **argv);
int cmd_convert_mapi2mime(int argc, char **argv);

#endif
