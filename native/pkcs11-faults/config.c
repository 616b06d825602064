/* Configuration file parser. Strict on purpose: an unknown key, function or CKR name is an
 * error, so that a typo in a test never silently turns a fault off. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void fault_defaults(struct fault *f)
{
    memset(f, 0, sizeof *f);
    f->latency_ms = -1;
    f->fail_count = -1;
}

static void rule_defaults(struct token_rule *t)
{
    memset(t, 0, sizeof *t);
    t->present = 1;
    for (int i = 0; i < FN_COUNT; i++) fault_defaults(&t->faults[i]);
}

void config_free(struct config *c)
{
    free(c->tokens);
    c->tokens = NULL;
    c->ntokens = 0;
}

int config_token_index(const struct config *c, const char *label)
{
    for (size_t i = 0; i < c->ntokens; i++)
        if (strcmp(c->tokens[i].label, label) == 0) return (int)i;
    return -1;
}

int fault_take(struct fault *f, CK_RV *rv)
{
    if (!f->fail_set) return 0;
    f->calls++;
    if (f->calls <= f->fail_after) return 0;
    if (f->fail_count >= 0 && f->failed >= f->fail_count) return 0;
    f->failed++;
    *rv = f->fail_rv;
    return 1;
}

void label_from_padded(const CK_UTF8CHAR *padded, size_t len, char *out)
{
    size_t start = 0, end = len < FAULTS_LABEL_MAX ? len : FAULTS_LABEL_MAX;
    while (end > 0 && (padded[end - 1] == ' ' || padded[end - 1] == '\0')) end--;
    while (start < end && padded[start] == ' ') start++;
    memcpy(out, padded + start, end - start);
    out[end - start] = '\0';
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

struct parser {
    int line;
    char *err;
    size_t errlen;
};

static int fail_at(struct parser *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "line %d: ", p->line);
    if (n < 0 || (size_t)n >= p->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_long(struct parser *p, const char *key, const char *v, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 0);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return fail_at(p, "%s: expected a number from %ld to %ld, got \"%s\"", key, min, max, v);
    *out = n;
    return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return fail_at(p, "%s: expected true or false, got \"%s\"", key, v);
}

/* A path from the file: absolute, or relative to the file's folder. */
static int set_path(struct parser *p, const char *key, const char *v, const char *conf_path, char *out)
{
    int n;
    if (v[0] == '/' || !conf_path) {
        n = snprintf(out, PATH_MAX, "%s", v);
    } else {
        const char *slash = strrchr(conf_path, '/');
        int dirlen = slash ? (int)(slash - conf_path) : 1;
        n = snprintf(out, PATH_MAX, "%.*s/%s", dirlen, slash ? conf_path : ".", v);
    }
    if (n < 0 || n >= PATH_MAX) return fail_at(p, "%s: path too long", key);
    return 0;
}

/* latency.F, fail.F, fail.F.count, fail.F.after: 1 if `key` is one of them (handled), 0 if
 * not, -1 on error. */
static int parse_fault_key(struct parser *p, const char *key, const char *v, struct fault *faults)
{
    enum { LATENCY, FAIL, FAIL_COUNT, FAIL_AFTER } kind;
    const char *rest;
    if (strncmp(key, "latency.", 8) == 0) {
        kind = LATENCY;
        rest = key + 8;
    } else if (strncmp(key, "fail.", 5) == 0) {
        kind = FAIL;
        rest = key + 5;
    } else {
        return 0;
    }
    char name[64];
    size_t n = strcspn(rest, ".");
    if (n == 0 || n >= sizeof name) return fail_at(p, "%s: no PKCS#11 function name", key);
    memcpy(name, rest, n);
    name[n] = '\0';
    const char *suffix = rest + n;
    if (kind == FAIL && strcmp(suffix, ".count") == 0) kind = FAIL_COUNT;
    else if (kind == FAIL && strcmp(suffix, ".after") == 0) kind = FAIL_AFTER;
    else if (*suffix != '\0') return fail_at(p, "unknown key \"%s\"", key);

    int id = fn_lookup(name);
    if (id < 0) return fail_at(p, "%s: \"%s\" is not a PKCS#11 2.40 function", key, name);
    if (id == FN_C_GetFunctionList) return fail_at(p, "%s: C_GetFunctionList cannot be delayed or failed", key);
    struct fault *f = &faults[id];
    long num;
    switch (kind) {
    case LATENCY:
        if (parse_long(p, key, v, 0, 3600000, &num)) return -1;
        f->latency_ms = num;
        break;
    case FAIL:
        if (ckr_parse(v, &f->fail_rv)) return fail_at(p, "%s: \"%s\" is not a CKR_* name or a number", key, v);
        if (f->fail_rv == CKR_OK) return fail_at(p, "%s: CKR_OK is not a failure", key);
        f->fail_set = 1;
        break;
    case FAIL_COUNT:
        if (parse_long(p, key, v, 0, 1000000000L, &num)) return -1;
        f->fail_count = num;
        f->fail_opts_set = 1;
        break;
    case FAIL_AFTER:
        if (parse_long(p, key, v, 0, 1000000000L, &num)) return -1;
        f->fail_after = num;
        f->fail_opts_set = 1;
        break;
    }
    return 1;
}

static int check_faults(struct parser *p, const struct fault *faults, const char *scope)
{
    for (int i = 0; i < FN_COUNT; i++) {
        if (faults[i].fail_opts_set && !faults[i].fail_set) {
            snprintf(p->err, p->errlen, "%s: fail.%s.count/.after without fail.%s", scope, fn_name(i), fn_name(i));
            return -1;
        }
    }
    return 0;
}

int config_parse(const char *text, size_t len, const char *conf_path, const char *env_module,
                 struct config *out, char *err, size_t errlen)
{
    struct parser p = {0, err, errlen};
    memset(out, 0, sizeof *out);
    for (int i = 0; i < FN_COUNT; i++) fault_defaults(&out->faults[i]);
    snprintf(out->module, sizeof out->module, "%s", env_module && *env_module ? env_module : FAULTS_DEFAULT_MODULE);
    if (conf_path && (size_t)snprintf(out->state, sizeof out->state, "%s.state", conf_path) >= sizeof out->state) {
        snprintf(err, errlen, "configuration path too long");
        return -1;
    }

    struct token_rule *cur = NULL; /* NULL: global section */
    size_t pos = 0;
    char buf[1024];
    while (pos < len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n') eol++;
        p.line++;
        if (eol - pos >= sizeof buf) {
            fail_at(&p, "line too long");
            goto fail;
        }
        memcpy(buf, text + pos, eol - pos);
        buf[eol - pos] = '\0';
        pos = eol + 1;
        char *s = trim(buf);
        if (*s == '\0' || *s == '#' || *s == ';') continue;

        if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']') {
                fail_at(&p, "section header without ']'");
                goto fail;
            }
            s[n - 1] = '\0';
            char *inner = trim(s + 1);
            if (strncmp(inner, "token", 5) != 0 || !isspace((unsigned char)inner[5])) {
                fail_at(&p, "unknown section [%s] (expected [token LABEL])", inner);
                goto fail;
            }
            char *label = trim(inner + 5);
            if (*label == '\0' || strlen(label) > FAULTS_LABEL_MAX) {
                fail_at(&p, "token label must have 1 to %d bytes", FAULTS_LABEL_MAX);
                goto fail;
            }
            if (config_token_index(out, label) >= 0) {
                fail_at(&p, "second section for token \"%s\"", label);
                goto fail;
            }
            struct token_rule *grown = realloc(out->tokens, (out->ntokens + 1) * sizeof *grown);
            if (!grown) {
                fail_at(&p, "out of memory");
                goto fail;
            }
            out->tokens = grown;
            cur = &out->tokens[out->ntokens++];
            rule_defaults(cur);
            memcpy(cur->label, label, strlen(label) + 1);
            continue;
        }

        char *eq = strchr(s, '=');
        if (!eq) {
            fail_at(&p, "expected \"key = value\"");
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *v = trim(eq + 1);
        if (*key == '\0' || *v == '\0') {
            fail_at(&p, "empty key or value");
            goto fail;
        }
        int r = parse_fault_key(&p, key, v, cur ? cur->faults : out->faults);
        if (r < 0) goto fail;
        if (r > 0) continue;

        long num;
        if (!cur && strcmp(key, "module") == 0) {
            if (set_path(&p, key, v, conf_path, out->module)) goto fail;
        } else if (!cur && strcmp(key, "state") == 0) {
            if (set_path(&p, key, v, conf_path, out->state)) goto fail;
        } else if (cur && strcmp(key, "present") == 0) {
            if (parse_bool(&p, key, v, &cur->present)) goto fail;
        } else if (cur && strcmp(key, "slot") == 0) {
            if (parse_long(&p, key, v, 0, 0x7fffffffL, &num)) goto fail;
            cur->slot = (CK_SLOT_ID)num;
            cur->slot_set = 1;
        } else if (cur && strcmp(key, "pin_retries") == 0) {
            if (parse_long(&p, key, v, 0, 1000, &num)) goto fail;
            cur->pin_retries = (int)num;
        } else {
            fail_at(&p, "unknown key \"%s\" in %s", key, cur ? "a [token] section" : "the global section");
            goto fail;
        }
    }
    if (check_faults(&p, out->faults, "global section")) goto fail;
    for (size_t i = 0; i < out->ntokens; i++) {
        char scope[FAULTS_LABEL_MAX + 16];
        snprintf(scope, sizeof scope, "[token %s]", out->tokens[i].label);
        if (check_faults(&p, out->tokens[i].faults, scope)) goto fail;
    }
    return 0;
fail:
    config_free(out);
    return -1;
}
