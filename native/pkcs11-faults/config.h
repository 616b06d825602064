/* The configuration file: parsing into rules (see README.md for the format). */
#ifndef PKCS11_FAULTS_CONFIG_H
#define PKCS11_FAULTS_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "p11.h"

/* CK_TOKEN_INFO.label is 32 bytes, blank-padded. */
#define FAULTS_LABEL_MAX 32
#define FAULTS_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* What happens to one PKCS#11 function in one scope (global or one token). */
struct fault {
    long latency_ms; /* -1: not set here */
    int fail_set;
    int fail_opts_set; /* .count or .after given (only valid with fail_set) */
    CK_RV fail_rv;
    long fail_count; /* -1: every call (after the first fail_after ones) */
    long fail_after; /* calls let through before the first failure */
    /* Run-time counters, zero whenever the file is (re)loaded. */
    long calls;
    long failed;
};

struct token_rule {
    char label[FAULTS_LABEL_MAX + 1];
    int present;
    int slot_set;
    CK_SLOT_ID slot;
    int pin_retries; /* 0: no counter */
    struct fault faults[FN_COUNT];
};

struct config {
    char module[PATH_MAX];
    char state[PATH_MAX];
    struct fault faults[FN_COUNT]; /* global scope: every call, whatever the token */
    struct token_rule *tokens;
    size_t ntokens;
};

/* Parses `text` (the contents of `conf_path`, used for relative paths and the default state
 * path; NULL when there is no file). `env_module` is LKMR_FAULTS_MODULE or NULL.
 * 0 on success; -1 with a message "line N: ..." in `err` otherwise (and `out` left empty). */
FAULTS_INTERNAL int config_parse(const char *text, size_t len, const char *conf_path, const char *env_module,
                                 struct config *out, char *err, size_t errlen);
FAULTS_INTERNAL void config_free(struct config *c);
/* The section of a token label (already trimmed), or -1. */
FAULTS_INTERNAL int config_token_index(const struct config *c, const char *label);
/* Decides whether this call fails by injection; counts the call. 1 with *rv set if so. */
FAULTS_INTERNAL int fault_take(struct fault *f, CK_RV *rv);
/* Copies a blank/NUL-padded PKCS#11 string into `out` (size FAULTS_LABEL_MAX + 1), trimmed. */
FAULTS_INTERNAL void label_from_padded(const CK_UTF8CHAR *padded, size_t len, char *out);

#endif
