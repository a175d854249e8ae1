/* err.h — the error every fallible function can fill in.
 *
 * Functions return 0 or a negative errno-style code; when the caller passes
 * a struct pvpn_err, the function also leaves a sentence a person can act
 * on ("this kernel has no ESP support (esp4 not loaded?)"). */
#ifndef PVPN_LIB_ERR_H
#define PVPN_LIB_ERR_H

#define PVPN_ERR_MSG_MAX 256

struct pvpn_err {
	int code;                       /* negative errno-style, 0 when clear */
	char msg[PVPN_ERR_MSG_MAX];     /* human sentence, never a secret */
};

/* Record code and message in *e (if e is not NULL) and return code, so a
 * caller can write `return err_set(e, -EINVAL, "...", ...);`. */
int err_set(struct pvpn_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "profile home: " + old message. */
int err_prefix(struct pvpn_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct pvpn_err *e);

#endif
