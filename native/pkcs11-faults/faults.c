/* pkcs11-faults: a PKCS#11 2.40 module that loads a real one (SoftHSM2 by default) and forwards
 * every call to it, adding what real USB tokens do and SoftHSM does not: a user-PIN retry
 * counter that locks, removal and re-insertion (also into another slot), added latency and
 * injected errors. Driven by a small text file that is re-read whenever it changes; see
 * README.md for the format.
 *
 * Handles: slot IDs are mapped (a token may appear under a configured ID); session handles are
 * our own (never reused), mapped to the real module's, so that a handle from before a removal can
 * never reach a session the real module opened later under the same number. Object handles and
 * everything else pass through unchanged.
 *
 * Threads: one mutex guards the configuration, the slot and session tables and the event queue.
 * It is never held while sleeping (latency, blocking C_WaitForSlotEvent) nor during the real
 * cryptographic calls, so a slow token on one thread does not stall the others. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "state.h"

/* Latency sleeps and blocking waits look at the configuration (and at removals) this often. */
#define SLICE_MS 20
/* A configuration file changed this recently is also compared by content: two quick rewrites of
 * the same size can share one mtime. Filesystems whose times carry sub-millisecond nanoseconds
 * stamp them from the kernel's tick clock (steps of at most 10 ms); the others may count whole
 * seconds (or 2 s, FAT). */
#define RECENT_FINE_NS 50000000LL
#define RECENT_COARSE_NS 2000000000LL
#define MAX_EVENTS 64
#define LIBRARY_DESCRIPTION "pkcs11-faults wrapper"

struct token {
    CK_SLOT_ID real_slot;
    int in_real;      /* the real module listed this slot at the last inventory */
    int real_present; /* ... with a token in it */
    char label[FAULTS_LABEL_MAX + 1];
    int rule;         /* index into g_conf.tokens, or -1 */
    int present;      /* as the application sees it */
    CK_SLOT_ID slot;  /* the slot ID the application sees */
};

struct session {
    CK_SESSION_HANDLE handle; /* ours */
    CK_SESSION_HANDLE real;
    size_t token;
    int busy;          /* calls in flight on it */
    int removed;       /* its token was pulled out: the real session is closed (see close_pending) */
    int invalidated;   /* ... and the token came back: the handle is just invalid now */
    int close_pending; /* pulled out during a call: close the real session when the call ends */
};

struct file_sig {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond; /* signalled on slot events and C_Finalize */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void *g_dl;
static char g_dl_path[PATH_MAX];
static CK_FUNCTION_LIST_PTR g_real;
static int g_initialized;
static int g_owns_real_init; /* we initialised the real module (not someone else in the process) */
static unsigned long g_epoch; /* changes at every C_Initialize and C_Finalize */
static int g_real_events;     /* the real module may support C_WaitForSlotEvent */

static char g_conf_path[PATH_MAX]; /* "" when LKMR_FAULTS_CONF is unset */
static struct config g_conf;
static struct file_sig g_conf_sig;
static char *g_conf_text;
static size_t g_conf_len;

static struct token *g_tokens;
static size_t g_ntokens;
static struct session *g_sessions;
static size_t g_nsessions, g_sessions_cap;
static CK_SESSION_HANDLE g_next_handle = 1;
static CK_SLOT_ID g_events[MAX_EVENTS];
static size_t g_nevents;

static CK_FUNCTION_LIST g_list;

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static void lock(void)
{
    pthread_mutex_lock(&g_lock);
}

static void unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}

static void once_init(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g_cond, &attr);
    pthread_condattr_destroy(&attr);
}

static long long now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void report(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "pkcs11-faults: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

/* ------------------------------------------------------------------------------------------ */
/* Configuration file                                                                         */

static void sig_from_stat(struct file_sig *s, const struct stat *st)
{
    s->exists = 1;
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->size = st->st_size;
    s->mtime = st->st_mtim;
    s->ctime = st->st_ctim;
}

static int sig_equal(const struct file_sig *a, const struct file_sig *b)
{
    if (a->exists != b->exists) return 0;
    if (!a->exists) return 1;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static int recently_changed(const struct file_sig *s)
{
    long long m = (long long)s->mtime.tv_sec * 1000000000LL + s->mtime.tv_nsec;
    long long c = (long long)s->ctime.tv_sec * 1000000000LL + s->ctime.tv_nsec;
    long long window = s->mtime.tv_nsec % 1000000 != 0 ? RECENT_FINE_NS : RECENT_COARSE_NS;
    long long now = now_ns(CLOCK_REALTIME);
    return now - m < window || now - c < window;
}

static int read_file(const char *path, char **text, size_t *len, struct file_sig *sig)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    int rc = fstat(fd, &st);
    if (rc == 0) {
        sig_from_stat(sig, &st);
        rc = faults_read_fd(fd, text, len);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static void apply_locked(int baseline);

/* Called at the start of every call: re-reads the file when it changed. A file that no longer
 * parses (or vanished) leaves the previous configuration in force, with a message on stderr. */
static void conf_refresh_locked(void)
{
    if (!g_conf_path[0]) return;
    struct stat st;
    struct file_sig now = {0};
    if (stat(g_conf_path, &st) == 0) sig_from_stat(&now, &st);
    if (sig_equal(&now, &g_conf_sig) && (!now.exists || !recently_changed(&now))) return;
    if (!now.exists) {
        report("%s: %s; keeping the previous configuration", g_conf_path, strerror(errno));
        g_conf_sig = now;
        return;
    }
    char *text = NULL;
    size_t len = 0;
    struct file_sig sig = {0};
    if (read_file(g_conf_path, &text, &len, &sig) != 0) return; /* e.g. replaced right now: next call */
    g_conf_sig = sig;
    if (g_conf_text && len == g_conf_len && memcmp(text, g_conf_text, len) == 0) {
        free(text);
        return;
    }
    free(g_conf_text);
    g_conf_text = text;
    g_conf_len = len;

    struct config next;
    char err[512];
    if (config_parse(text, len, g_conf_path, getenv("LKMR_FAULTS_MODULE"), &next, err, sizeof err) != 0) {
        report("%s: %s; keeping the previous configuration", g_conf_path, err);
        return;
    }
    config_free(&g_conf);
    g_conf = next;
    apply_locked(0);
}

/* At C_Initialize: LKMR_FAULTS_CONF is read afresh; an unreadable or invalid file fails it. */
static CK_RV conf_load_locked(void)
{
    const char *path = getenv("LKMR_FAULTS_CONF");
    const char *env_module = getenv("LKMR_FAULTS_MODULE");
    char err[512];
    config_free(&g_conf);
    free(g_conf_text);
    g_conf_text = NULL;
    g_conf_len = 0;
    memset(&g_conf_sig, 0, sizeof g_conf_sig);
    g_conf_path[0] = '\0';
    if (!path || !*path) {
        config_parse("", 0, NULL, env_module, &g_conf, err, sizeof err);
        return CKR_OK;
    }
    if (!realpath(path, g_conf_path)) {
        report("cannot read LKMR_FAULTS_CONF=%s: %s", path, strerror(errno));
        g_conf_path[0] = '\0';
        return CKR_GENERAL_ERROR;
    }
    if (read_file(g_conf_path, &g_conf_text, &g_conf_len, &g_conf_sig) != 0) {
        report("cannot read LKMR_FAULTS_CONF=%s: %s", path, strerror(errno));
        return CKR_GENERAL_ERROR;
    }
    if (config_parse(g_conf_text, g_conf_len, g_conf_path, env_module, &g_conf, err, sizeof err) != 0) {
        report("%s: %s", g_conf_path, err);
        return CKR_GENERAL_ERROR;
    }
    return CKR_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Slots, tokens, sessions, events                                                            */

static void event_push_locked(CK_SLOT_ID slot)
{
    for (size_t i = 0; i < g_nevents; i++)
        if (g_events[i] == slot) return;
    if (g_nevents == MAX_EVENTS) {
        memmove(g_events, g_events + 1, (MAX_EVENTS - 1) * sizeof g_events[0]);
        g_nevents--;
    }
    g_events[g_nevents++] = slot;
    pthread_cond_broadcast(&g_cond);
}

static struct session *session_find_locked(CK_SESSION_HANDLE h)
{
    for (size_t i = 0; i < g_nsessions; i++)
        if (g_sessions[i].handle == h) return &g_sessions[i];
    return NULL;
}

static void session_free_locked(struct session *s)
{
    if (s->close_pending) g_real->C_CloseSession(s->real);
    *s = g_sessions[--g_nsessions];
}

static CK_RV session_status(const struct session *s)
{
    if (s->invalidated) return CKR_SESSION_HANDLE_INVALID;
    if (s->removed) return CKR_DEVICE_REMOVED;
    return CKR_OK;
}

/* The token went away: its sessions answer CKR_DEVICE_REMOVED from now on, and the real ones
 * are closed (which also logs the real token out, as pulling a real one does). */
static void token_removed_locked(size_t t)
{
    for (size_t i = 0; i < g_nsessions; i++) {
        struct session *s = &g_sessions[i];
        if (s->token != t || s->removed) continue;
        s->removed = 1;
        if (s->busy == 0) g_real->C_CloseSession(s->real);
        else s->close_pending = 1;
    }
}

/* It came back: handles from before are simply invalid. */
static void token_inserted_locked(size_t t)
{
    for (size_t i = 0; i < g_nsessions; i++)
        if (g_sessions[i].token == t && g_sessions[i].removed) g_sessions[i].invalidated = 1;
}

/* Recomputes what the application sees from the real inventory and the configuration; a change
 * of presence or slot ID is a removal and/or an insertion (queued as slot events). */
static void apply_locked(int baseline)
{
    for (size_t i = 0; i < g_ntokens; i++) {
        struct token *t = &g_tokens[i];
        t->rule = config_token_index(&g_conf, t->label);
        const struct token_rule *r = t->rule >= 0 ? &g_conf.tokens[t->rule] : NULL;
        int present = t->in_real && t->real_present && (!r || r->present);
        CK_SLOT_ID slot = r && r->slot_set ? r->slot : t->real_slot;
        if (!baseline) {
            int moved = slot != t->slot;
            if (t->present && (!present || moved)) {
                token_removed_locked(i);
                event_push_locked(t->slot);
            }
            if (present && (!t->present || moved)) {
                token_inserted_locked(i);
                event_push_locked(slot);
            }
        }
        t->present = present;
        t->slot = slot;
    }
}

static long token_by_real_locked(CK_SLOT_ID real_slot)
{
    for (size_t i = 0; i < g_ntokens; i++)
        if (g_tokens[i].real_slot == real_slot) return (long)i;
    return -1;
}

/* The token behind one of our slot IDs. If several share it (a configured `slot` equal to a real
 * ID), a configured one wins over an unconfigured one, then a present one over an absent one. */
static long token_by_slot_locked(CK_SLOT_ID id)
{
    long best = -1;
    int best_rank = -1;
    for (size_t i = 0; i < g_ntokens; i++) {
        const struct token *t = &g_tokens[i];
        if (!t->in_real || t->slot != id) continue;
        int rank = (t->rule >= 0 && g_conf.tokens[t->rule].slot_set ? 2 : 0) + (t->present ? 1 : 0);
        if (rank > best_rank) {
            best = (long)i;
            best_rank = rank;
        }
    }
    return best;
}

/* Asks the real module for its slots and token labels (at C_Initialize, C_GetSlotList, and
 * when the application names a slot we do not know). */
static void inventory_locked(int baseline)
{
    CK_SLOT_ID *list = NULL;
    CK_ULONG n = 0;
    CK_RV rv = CKR_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        rv = g_real->C_GetSlotList(CK_FALSE, NULL_PTR, &n);
        if (rv != CKR_OK) break;
        CK_SLOT_ID *grown = realloc(list, (n ? n : 1) * sizeof *list);
        if (!grown) {
            rv = CKR_HOST_MEMORY;
            break;
        }
        list = grown;
        rv = g_real->C_GetSlotList(CK_FALSE, list, &n);
        if (rv != CKR_BUFFER_TOO_SMALL) break;
    }
    if (rv != CKR_OK) { /* keep what we knew */
        free(list);
        return;
    }
    for (size_t i = 0; i < g_ntokens; i++) g_tokens[i].in_real = 0;
    for (CK_ULONG k = 0; k < n; k++) {
        long i = token_by_real_locked(list[k]);
        if (i < 0) {
            struct token *grown = realloc(g_tokens, (g_ntokens + 1) * sizeof *grown);
            if (!grown) continue;
            g_tokens = grown;
            i = (long)g_ntokens++;
            memset(&g_tokens[i], 0, sizeof g_tokens[i]);
            g_tokens[i].real_slot = list[k];
            g_tokens[i].slot = list[k];
            g_tokens[i].rule = -1;
        }
        struct token *t = &g_tokens[i];
        t->in_real = 1;
        CK_SLOT_INFO si;
        t->real_present = g_real->C_GetSlotInfo(list[k], &si) == CKR_OK && (si.flags & CKF_TOKEN_PRESENT);
        CK_TOKEN_INFO ti;
        if (t->real_present && g_real->C_GetTokenInfo(list[k], &ti) == CKR_OK)
            label_from_padded(ti.label, sizeof ti.label, t->label);
    }
    free(list);
    apply_locked(baseline);
}

static void tables_free_locked(void)
{
    free(g_sessions);
    g_sessions = NULL;
    g_nsessions = g_sessions_cap = 0;
    free(g_tokens);
    g_tokens = NULL;
    g_ntokens = 0;
    g_nevents = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The real module                                                                            */

static CK_RV module_load_locked(const char *path)
{
    if (g_dl && strcmp(g_dl_path, path) == 0) return CKR_OK;
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        report("cannot load the real module %s: %s", path, dlerror());
        return CKR_GENERAL_ERROR;
    }
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR list = NULL;
    if (!get || get(&list) != CKR_OK || !list || list == &g_list) {
        report("%s: %s", path, list == &g_list ? "is pkcs11-faults itself" : "no usable C_GetFunctionList");
        dlclose(dl);
        return CKR_GENERAL_ERROR;
    }
    if (g_dl) dlclose(g_dl);
    g_dl = dl;
    g_real = list;
    snprintf(g_dl_path, sizeof g_dl_path, "%s", path);
    return CKR_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* One call: checks, faults, latency                                                          */

enum call_kind { CALL_GLOBAL, CALL_SLOT, CALL_TOKEN, CALL_SESSION };

struct call {
    int fn;
    enum call_kind kind;
    unsigned long epoch;
    CK_FUNCTION_LIST_PTR fl;
    long latency_ms;
    int inject;
    CK_RV inject_rv;
    size_t token;
    CK_SLOT_ID real_slot;
    CK_SESSION_HANDLE handle, real;
    int pin_max; /* the token's pin_retries (0: no counter) */
    char label[FAULTS_LABEL_MAX + 1];
};

/* Latency and injected failure for this call: the token's section first, then the global one. */
static void pick_locked(struct call *c, int rule)
{
    struct token_rule *r = rule >= 0 && (size_t)rule < g_conf.ntokens ? &g_conf.tokens[rule] : NULL;
    struct fault *tf = r ? &r->faults[c->fn] : NULL, *gf = &g_conf.faults[c->fn];
    c->latency_ms = tf && tf->latency_ms >= 0 ? tf->latency_ms : gf->latency_ms > 0 ? gf->latency_ms : 0;
    c->inject = fault_take(tf && tf->fail_set ? tf : gf, &c->inject_rv);
    c->pin_max = r ? r->pin_retries : 0;
    if (r) memcpy(c->label, r->label, sizeof c->label);
}

/* Is the call still valid (during a latency sleep)? */
static CK_RV check_locked(const struct call *c)
{
    if (!g_initialized || c->epoch != g_epoch) return CKR_CRYPTOKI_NOT_INITIALIZED;
    conf_refresh_locked();
    if (c->kind == CALL_SESSION) {
        const struct session *s = session_find_locked(c->handle);
        return s ? session_status(s) : CKR_SESSION_CLOSED;
    }
    if (c->kind == CALL_TOKEN && !g_tokens[c->token].present) return CKR_TOKEN_NOT_PRESENT;
    return CKR_OK;
}

/* Sleeps the configured latency, in slices, ending early when the token is pulled out meanwhile
 * (a real token pulled in the middle of a slow signature fails it). */
static CK_RV latency_wait(const struct call *c)
{
    if (c->latency_ms <= 0) return CKR_OK;
    long long end = now_ns(CLOCK_MONOTONIC) + (long long)c->latency_ms * 1000000LL;
    for (;;) {
        long long left_ms = (end - now_ns(CLOCK_MONOTONIC) + 999999) / 1000000;
        if (left_ms <= 0) return CKR_OK;
        sleep_ms(left_ms < SLICE_MS ? (long)left_ms : SLICE_MS);
        lock();
        CK_RV rv = check_locked(c);
        unlock();
        if (rv != CKR_OK) return rv;
    }
}

static CK_RV begin_global(int fn, struct call *c)
{
    c->fn = fn;
    c->kind = CALL_GLOBAL;
    lock();
    if (!g_initialized) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    conf_refresh_locked();
    c->epoch = g_epoch;
    c->fl = g_real;
    pick_locked(c, -1);
    unlock();
    return latency_wait(c);
}

/* need_token: the call needs the token in the slot (else CKR_TOKEN_NOT_PRESENT). */
static CK_RV begin_slot(int fn, CK_SLOT_ID id, int need_token, struct call *c)
{
    c->fn = fn;
    c->kind = need_token ? CALL_TOKEN : CALL_SLOT;
    lock();
    if (!g_initialized) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    conf_refresh_locked();
    long i = token_by_slot_locked(id);
    if (i < 0) {
        inventory_locked(0);
        i = token_by_slot_locked(id);
    }
    if (i < 0) {
        unlock();
        return CKR_SLOT_ID_INVALID;
    }
    if (need_token && !g_tokens[i].present) {
        unlock();
        return CKR_TOKEN_NOT_PRESENT;
    }
    c->token = (size_t)i;
    c->real_slot = g_tokens[i].real_slot;
    c->epoch = g_epoch;
    c->fl = g_real;
    pick_locked(c, g_tokens[i].rule);
    unlock();
    return latency_wait(c);
}

static CK_RV end_session(struct call *c, CK_RV rv);

static CK_RV begin_session(int fn, CK_SESSION_HANDLE h, struct call *c)
{
    c->fn = fn;
    c->kind = CALL_SESSION;
    c->handle = h;
    lock();
    if (!g_initialized) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    conf_refresh_locked();
    struct session *s = session_find_locked(h);
    CK_RV rv = s ? session_status(s) : CKR_SESSION_HANDLE_INVALID;
    if (rv != CKR_OK) {
        unlock();
        return rv;
    }
    c->real = s->real;
    c->token = s->token;
    c->real_slot = g_tokens[s->token].real_slot;
    c->epoch = g_epoch;
    c->fl = g_real;
    pick_locked(c, g_tokens[s->token].rule);
    s->busy++;
    unlock();
    rv = latency_wait(c);
    return rv == CKR_OK ? CKR_OK : end_session(c, rv);
}

/* After the real call: a token pulled out during it turns its error into CKR_DEVICE_REMOVED, and
 * a real session whose closing had to wait for this call is closed now. */
static CK_RV end_session(struct call *c, CK_RV rv)
{
    lock();
    struct session *s = c->epoch == g_epoch ? session_find_locked(c->handle) : NULL;
    if (s) {
        if (s->busy > 0) s->busy--;
        if (s->removed) {
            if (s->close_pending && s->busy == 0) {
                g_real->C_CloseSession(s->real);
                s->close_pending = 0;
            }
            if (rv != CKR_OK) rv = session_status(s);
        }
    }
    unlock();
    return rv;
}

/* ------------------------------------------------------------------------------------------ */
/* User-PIN retry counter                                                                      */

static void state_path(char *out)
{
    lock();
    snprintf(out, PATH_MAX, "%s", g_conf.state);
    unlock();
}

static int tries_left(const struct call *c)
{
    char path[PATH_MAX];
    state_path(path);
    struct pin_file f;
    if (pinfile_open(&f, path, 0) != 0) {
        report("cannot read the state file %s: %s", path, strerror(errno));
        return c->pin_max;
    }
    int left = pinfile_get(&f, c->label, c->pin_max);
    pinfile_close(&f);
    return left;
}

static CK_FLAGS pin_flags(CK_FLAGS flags, int left, int max)
{
    flags &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
    if (left < max) flags |= CKF_USER_PIN_COUNT_LOW;
    if (left == 1) flags |= CKF_USER_PIN_FINAL_TRY;
    if (left == 0) flags |= CKF_USER_PIN_LOCKED;
    return flags;
}

struct pin_call {
    int set_pin; /* C_SetPIN, else C_Login */
    CK_USER_TYPE user;
    CK_UTF8CHAR_PTR pin, new_pin;
    CK_ULONG pin_len, new_pin_len;
};

/* A call that checks the user PIN, under the counter: refused with CKR_PIN_LOCKED when no tries
 * are left (the real module is not asked); CKR_PIN_INCORRECT costs a try (and is still what that
 * call returns, the next one gets CKR_PIN_LOCKED); success refills the counter. The state file
 * stays locked throughout, so concurrent processes count every try. */
static CK_RV pin_counted(const struct call *c, const struct pin_call *p)
{
    char path[PATH_MAX];
    state_path(path);
    struct pin_file f;
    if (pinfile_open(&f, path, 1) != 0) {
        report("cannot update the state file %s: %s", path, strerror(errno));
        return CKR_GENERAL_ERROR;
    }
    int left = pinfile_get(&f, c->label, c->pin_max);
    CK_RV rv = CKR_PIN_LOCKED;
    if (left > 0) {
        rv = p->set_pin ? c->fl->C_SetPIN(c->real, p->pin, p->pin_len, p->new_pin, p->new_pin_len)
                        : c->fl->C_Login(c->real, p->user, p->pin, p->pin_len);
        int next = rv == CKR_PIN_INCORRECT ? left - 1 : rv == CKR_OK ? -1 : left;
        if (next != left && (next >= 0 || left != c->pin_max)) {
            if (pinfile_set(&f, c->label, next) != 0 || pinfile_save(&f) != 0)
                report("cannot update the state file %s: %s", path, strerror(errno));
        }
    }
    pinfile_close(&f);
    return rv;
}

/* A full counter again (C_InitPIN by the SO, C_InitToken). */
static void pin_reset(const char *label)
{
    char path[PATH_MAX];
    state_path(path);
    struct pin_file f;
    if (pinfile_open(&f, path, 1) != 0) {
        report("cannot update the state file %s: %s", path, strerror(errno));
        return;
    }
    if (pinfile_set(&f, label, -1) != 0 || pinfile_save(&f) != 0)
        report("cannot update the state file %s: %s", path, strerror(errno));
    pinfile_close(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* Ending the real module's operation when a call inside it fails by injection: on a token an
 * error ends the active operation, so the real one must end too, or the application's next
 * C_*Init would meet CKR_OPERATION_ACTIVE, which no real token would answer there. The call is
 * run to completion into a scratch buffer and the result thrown away. */

typedef CK_RV (*output_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV (*final_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR);

static void finish_output(output_fn f, CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len)
{
    CK_ULONG n = 0;
    if (f(h, in, in_len, NULL_PTR, &n) != CKR_OK) return; /* an error has ended it already */
    CK_BYTE_PTR buf = malloc(n ? n : 1);
    if (!buf) return;
    (void)f(h, in, in_len, buf, &n);
    free(buf);
}

static void finish_final(final_fn f, CK_SESSION_HANDLE h)
{
    CK_ULONG n = 0;
    if (f(h, NULL_PTR, &n) != CKR_OK) return;
    CK_BYTE_PTR buf = malloc(n ? n : 1);
    if (!buf) return;
    (void)f(h, buf, &n);
    free(buf);
}

static void finish_verify(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE h)
{
    CK_BYTE wrong = 0; /* a 1-byte signature ends it with CKR_SIGNATURE_LEN_RANGE */
    (void)fl->C_VerifyFinal(h, &wrong, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* General-purpose functions                                                                  */

static CK_RV fw_C_Initialize(CK_VOID_PTR pInitArgs)
{
    pthread_once(&g_once, once_init);
    struct call c = {0};
    c.fn = FN_C_Initialize;
    c.kind = CALL_GLOBAL;
    lock();
    if (g_initialized) {
        unlock();
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    CK_RV rv = conf_load_locked();
    if (rv == CKR_OK) pick_locked(&c, -1);
    unlock();
    if (rv != CKR_OK) return rv;
    if (c.latency_ms > 0) sleep_ms(c.latency_ms);
    if (c.inject) return c.inject_rv;

    lock();
    if (g_initialized) {
        unlock();
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    rv = module_load_locked(g_conf.module);
    if (rv == CKR_OK) {
        rv = g_real->C_Initialize(pInitArgs);
        /* Someone else in this process initialised the real module: share it, never finalise it. */
        g_owns_real_init = rv == CKR_OK;
        if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) rv = CKR_OK;
    }
    if (rv == CKR_OK) {
        tables_free_locked();
        g_real_events = 1;
        g_initialized = 1;
        g_epoch++;
        inventory_locked(1);
    }
    unlock();
    return rv;
}

static CK_RV fw_C_Finalize(CK_VOID_PTR pReserved)
{
    struct call c = {0};
    CK_RV rv = begin_global(FN_C_Finalize, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    if (pReserved) return CKR_ARGUMENTS_BAD;
    lock();
    if (!g_initialized || c.epoch != g_epoch) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (g_owns_real_init) {
        rv = g_real->C_Finalize(NULL_PTR);
    } else {
        for (size_t i = 0; i < g_nsessions; i++)
            if (!g_sessions[i].removed || g_sessions[i].close_pending) g_real->C_CloseSession(g_sessions[i].real);
    }
    tables_free_locked();
    config_free(&g_conf);
    g_initialized = 0;
    g_epoch++;
    pthread_cond_broadcast(&g_cond); /* a blocked C_WaitForSlotEvent returns */
    unlock();
    return rv;
}

static CK_RV fw_C_GetInfo(CK_INFO_PTR pInfo)
{
    struct call c = {0};
    CK_RV rv = begin_global(FN_C_GetInfo, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    rv = c.fl->C_GetInfo(pInfo);
    if (rv == CKR_OK) {
        pInfo->cryptokiVersion.major = 2;
        pInfo->cryptokiVersion.minor = 40;
        memset(pInfo->libraryDescription, ' ', sizeof pInfo->libraryDescription);
        memcpy(pInfo->libraryDescription, LIBRARY_DESCRIPTION, sizeof LIBRARY_DESCRIPTION - 1);
    }
    return rv;
}

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (!ppFunctionList) return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &g_list;
    return CKR_OK;
}

static CK_RV fw_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    return C_GetFunctionList(ppFunctionList);
}

/* ------------------------------------------------------------------------------------------ */
/* Slot and token management                                                                  */

static CK_RV fw_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    struct call c = {0};
    CK_RV rv = begin_global(FN_C_GetSlotList, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    if (!pulCount) return CKR_ARGUMENTS_BAD;
    lock();
    if (!g_initialized || c.epoch != g_epoch) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    inventory_locked(0);
    CK_ULONG n = 0;
    for (size_t i = 0; i < g_ntokens; i++) {
        const struct token *t = &g_tokens[i];
        if (!t->in_real || (tokenPresent && !t->present) || token_by_slot_locked(t->slot) != (long)i) continue;
        if (pSlotList && n < *pulCount) pSlotList[n] = t->slot;
        n++;
    }
    rv = pSlotList && *pulCount < n ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    *pulCount = n;
    unlock();
    return rv;
}

static CK_RV fw_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_GetSlotInfo, slotID, 0, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    rv = c.fl->C_GetSlotInfo(c.real_slot, pInfo);
    if (rv == CKR_OK) {
        lock();
        if (c.epoch == g_epoch) {
            const struct token *t = &g_tokens[c.token];
            if (!t->present) pInfo->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
            if (t->rule >= 0) pInfo->flags |= CKF_REMOVABLE_DEVICE;
        }
        unlock();
    }
    return rv;
}

static CK_RV fw_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_GetTokenInfo, slotID, 1, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    rv = c.fl->C_GetTokenInfo(c.real_slot, pInfo);
    if (rv == CKR_OK && c.pin_max > 0) pInfo->flags = pin_flags(pInfo->flags, tries_left(&c), c.pin_max);
    return rv;
}

static CK_RV fw_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount)
{
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_GetMechanismList, slotID, 1, &c);
    if (rv != CKR_OK) return rv;
    return c.inject ? c.inject_rv : c.fl->C_GetMechanismList(c.real_slot, pMechanismList, pulCount);
}

static CK_RV fw_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_GetMechanismInfo, slotID, 1, &c);
    if (rv != CKR_OK) return rv;
    return c.inject ? c.inject_rv : c.fl->C_GetMechanismInfo(c.real_slot, type, pInfo);
}

static CK_RV fw_C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_InitToken, slotID, 1, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    rv = c.fl->C_InitToken(c.real_slot, pPin, ulPinLen, pLabel);
    if (rv != CKR_OK) return rv;
    /* A new token: a new label (maybe another section) and no user PIN yet; counters start full. */
    char old_label[FAULTS_LABEL_MAX + 1], new_label[FAULTS_LABEL_MAX + 1] = "";
    lock();
    if (c.epoch == g_epoch) {
        memcpy(old_label, g_tokens[c.token].label, sizeof old_label);
        inventory_locked(0);
        memcpy(new_label, g_tokens[c.token].label, sizeof new_label);
    } else {
        old_label[0] = '\0';
    }
    unlock();
    if (old_label[0]) pin_reset(old_label);
    if (new_label[0] && strcmp(new_label, old_label) != 0) pin_reset(new_label);
    return rv;
}

static CK_RV fw_C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    struct call c = {0};
    CK_RV rv = begin_session(FN_C_InitPIN, hSession, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return end_session(&c, c.inject_rv);
    rv = c.fl->C_InitPIN(c.real, pPin, ulPinLen);
    if (rv == CKR_OK && c.pin_max > 0) pin_reset(c.label); /* the SO unblocks the user PIN */
    return end_session(&c, rv);
}

static CK_RV fw_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
                         CK_ULONG ulNewLen)
{
    struct call c = {0};
    CK_RV rv = begin_session(FN_C_SetPIN, hSession, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return end_session(&c, c.inject_rv);
    CK_SESSION_INFO si;
    /* C_SetPIN changes the SO PIN in an SO session (not counted), else the user PIN (counted). */
    if (c.pin_max > 0 && c.fl->C_GetSessionInfo(c.real, &si) == CKR_OK && si.state != CKS_RW_SO_FUNCTIONS) {
        struct pin_call p = {1, CKU_USER, pOldPin, pNewPin, ulOldLen, ulNewLen};
        rv = pin_counted(&c, &p);
    } else {
        rv = c.fl->C_SetPIN(c.real, pOldPin, ulOldLen, pNewPin, ulNewLen);
    }
    return end_session(&c, rv);
}

/* ------------------------------------------------------------------------------------------ */
/* Session management                                                                         */

static CK_RV fw_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                              CK_SESSION_HANDLE_PTR phSession)
{
    (void)Notify; /* the real module would call it with its own handles: not passed on */
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_OpenSession, slotID, 1, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    if (!phSession) return CKR_ARGUMENTS_BAD;
    CK_SESSION_HANDLE real = CK_INVALID_HANDLE;
    rv = c.fl->C_OpenSession(c.real_slot, flags, pApplication, NULL_PTR, &real);
    if (rv != CKR_OK) return rv;
    lock();
    if (!g_initialized || c.epoch != g_epoch) {
        rv = CKR_CRYPTOKI_NOT_INITIALIZED; /* finalised meanwhile: the real session went with it */
    } else if (!g_tokens[c.token].present) {
        c.fl->C_CloseSession(real);
        rv = CKR_TOKEN_NOT_PRESENT;
    } else {
        if (g_nsessions == g_sessions_cap) {
            size_t cap = g_sessions_cap ? g_sessions_cap * 2 : 16;
            struct session *grown = realloc(g_sessions, cap * sizeof *grown);
            if (grown) {
                g_sessions = grown;
                g_sessions_cap = cap;
            }
        }
        if (g_nsessions == g_sessions_cap) {
            c.fl->C_CloseSession(real);
            rv = CKR_HOST_MEMORY;
        } else {
            struct session *s = &g_sessions[g_nsessions++];
            memset(s, 0, sizeof *s);
            s->handle = g_next_handle++;
            s->real = real;
            s->token = c.token;
            *phSession = s->handle;
        }
    }
    unlock();
    return rv;
}

static CK_RV fw_C_CloseSession(CK_SESSION_HANDLE hSession)
{
    lock();
    if (!g_initialized) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    conf_refresh_locked();
    struct session *s = session_find_locked(hSession);
    if (!s) {
        unlock();
        return CKR_SESSION_HANDLE_INVALID;
    }
    if (s->removed) { /* a handle from before a removal: answered like any call on it, then forgotten */
        CK_RV status = session_status(s);
        session_free_locked(s);
        unlock();
        return status;
    }
    unlock();

    struct call c = {0};
    CK_RV rv = begin_session(FN_C_CloseSession, hSession, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return end_session(&c, c.inject_rv);
    rv = c.fl->C_CloseSession(c.real);
    lock();
    s = c.epoch == g_epoch ? session_find_locked(hSession) : NULL;
    if (s) {
        if (s->busy > 0) s->busy--;
        if (s->removed && rv != CKR_OK) rv = session_status(s);
        if (rv == CKR_OK || s->removed || rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED) {
            s->close_pending = 0; /* closed just now */
            session_free_locked(s);
        }
    }
    unlock();
    return rv;
}

static CK_RV fw_C_CloseAllSessions(CK_SLOT_ID slotID)
{
    struct call c = {0};
    CK_RV rv = begin_slot(FN_C_CloseAllSessions, slotID, 0, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    /* One by one rather than the real C_CloseAllSessions: another user of the real module in this
     * process may have sessions on the same slot. */
    lock();
    if (c.epoch == g_epoch) {
        for (size_t i = 0; i < g_nsessions;) {
            struct session *s = &g_sessions[i];
            if (s->token != c.token) {
                i++;
                continue;
            }
            if (!s->removed) g_real->C_CloseSession(s->real);
            session_free_locked(s);
        }
    } else {
        rv = CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    unlock();
    return rv;
}

static CK_RV fw_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    struct call c = {0};
    CK_RV rv = begin_session(FN_C_GetSessionInfo, hSession, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return end_session(&c, c.inject_rv);
    rv = c.fl->C_GetSessionInfo(c.real, pInfo);
    if (rv == CKR_OK) {
        lock();
        if (c.epoch == g_epoch) pInfo->slotID = g_tokens[c.token].slot;
        unlock();
    }
    return end_session(&c, rv);
}

static CK_RV fw_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    struct call c = {0};
    CK_RV rv = begin_session(FN_C_Login, hSession, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) {
        rv = c.inject_rv;
    } else if (c.pin_max > 0 && (userType == CKU_USER || userType == CKU_CONTEXT_SPECIFIC)) {
        struct pin_call p = {0, userType, pPin, NULL_PTR, ulPinLen, 0};
        rv = pin_counted(&c, &p);
    } else {
        rv = c.fl->C_Login(c.real, userType, pPin, ulPinLen);
    }
    return end_session(&c, rv);
}

/* Session calls forwarded as they are (object handles pass through). */
#define SESSION_FORWARD(name, params, args)                                                                   \
    static CK_RV fw_##name params                                                                             \
    {                                                                                                         \
        struct call c = {0};                                                                                  \
        CK_RV rv = begin_session(FN_##name, hSession, &c);                                                    \
        if (rv != CKR_OK) return rv;                                                                          \
        rv = c.inject ? c.inject_rv : c.fl->name args;                                                        \
        return end_session(&c, rv);                                                                           \
    }

/* Calls inside a cryptographic operation: an injected failure also ends the real operation. */
#define SESSION_OPERATION(name, params, args, finish)                                                         \
    static CK_RV fw_##name params                                                                             \
    {                                                                                                         \
        struct call c = {0};                                                                                  \
        CK_RV rv = begin_session(FN_##name, hSession, &c);                                                    \
        if (rv != CKR_OK) return rv;                                                                          \
        if (c.inject) {                                                                                       \
            finish;                                                                                           \
            rv = c.inject_rv;                                                                                 \
        } else {                                                                                              \
            rv = c.fl->name args;                                                                             \
        }                                                                                                     \
        return end_session(&c, rv);                                                                           \
    }

SESSION_FORWARD(C_GetOperationState,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, CK_ULONG_PTR pulOperationStateLen),
                (c.real, pOperationState, pulOperationStateLen))
SESSION_FORWARD(C_SetOperationState,
                (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, CK_ULONG ulOperationStateLen,
                 CK_OBJECT_HANDLE hEncryptionKey, CK_OBJECT_HANDLE hAuthenticationKey),
                (c.real, pOperationState, ulOperationStateLen, hEncryptionKey, hAuthenticationKey))
SESSION_FORWARD(C_Logout, (CK_SESSION_HANDLE hSession), (c.real))

/* Object management */
SESSION_FORWARD(C_CreateObject,
                (CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject),
                (c.real, pTemplate, ulCount, phObject))
SESSION_FORWARD(C_CopyObject,
                (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                 CK_OBJECT_HANDLE_PTR phNewObject),
                (c.real, hObject, pTemplate, ulCount, phNewObject))
SESSION_FORWARD(C_DestroyObject, (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject), (c.real, hObject))
SESSION_FORWARD(C_GetObjectSize, (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize),
                (c.real, hObject, pulSize))
SESSION_FORWARD(C_GetAttributeValue,
                (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount),
                (c.real, hObject, pTemplate, ulCount))
SESSION_FORWARD(C_SetAttributeValue,
                (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount),
                (c.real, hObject, pTemplate, ulCount))
SESSION_FORWARD(C_FindObjectsInit, (CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount),
                (c.real, pTemplate, ulCount))
SESSION_FORWARD(C_FindObjects,
                (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
                 CK_ULONG_PTR pulObjectCount),
                (c.real, phObject, ulMaxObjectCount, pulObjectCount))
SESSION_FORWARD(C_FindObjectsFinal, (CK_SESSION_HANDLE hSession), (c.real))

/* Encryption */
SESSION_FORWARD(C_EncryptInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey),
                (c.real, pMechanism, hKey))
SESSION_OPERATION(C_Encrypt,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData,
                   CK_ULONG_PTR pulEncryptedDataLen),
                  (c.real, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen),
                  finish_output(c.fl->C_Encrypt, c.real, pData, ulDataLen))
SESSION_OPERATION(C_EncryptUpdate,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
                   CK_ULONG_PTR pulEncryptedPartLen),
                  (c.real, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen),
                  finish_final(c.fl->C_EncryptFinal, c.real))
SESSION_OPERATION(C_EncryptFinal,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen),
                  (c.real, pLastEncryptedPart, pulLastEncryptedPartLen), finish_final(c.fl->C_EncryptFinal, c.real))

/* Decryption */
SESSION_FORWARD(C_DecryptInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey),
                (c.real, pMechanism, hKey))
SESSION_OPERATION(C_Decrypt,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData,
                   CK_ULONG_PTR pulDataLen),
                  (c.real, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen),
                  finish_output(c.fl->C_Decrypt, c.real, pEncryptedData, ulEncryptedDataLen))
SESSION_OPERATION(C_DecryptUpdate,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
                   CK_ULONG_PTR pulPartLen),
                  (c.real, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen),
                  finish_final(c.fl->C_DecryptFinal, c.real))
SESSION_OPERATION(C_DecryptFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen),
                  (c.real, pLastPart, pulLastPartLen), finish_final(c.fl->C_DecryptFinal, c.real))

/* Message digesting */
SESSION_FORWARD(C_DigestInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism), (c.real, pMechanism))
SESSION_OPERATION(C_Digest,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest,
                   CK_ULONG_PTR pulDigestLen),
                  (c.real, pData, ulDataLen, pDigest, pulDigestLen),
                  finish_output(c.fl->C_Digest, c.real, pData, ulDataLen))
SESSION_OPERATION(C_DigestUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen),
                  (c.real, pPart, ulPartLen), finish_final(c.fl->C_DigestFinal, c.real))
SESSION_OPERATION(C_DigestKey, (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey), (c.real, hKey),
                  finish_final(c.fl->C_DigestFinal, c.real))
SESSION_OPERATION(C_DigestFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen),
                  (c.real, pDigest, pulDigestLen), finish_final(c.fl->C_DigestFinal, c.real))

/* Signing and MACing */
SESSION_FORWARD(C_SignInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey),
                (c.real, pMechanism, hKey))
SESSION_OPERATION(C_Sign,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                   CK_ULONG_PTR pulSignatureLen),
                  (c.real, pData, ulDataLen, pSignature, pulSignatureLen),
                  finish_output(c.fl->C_Sign, c.real, pData, ulDataLen))
SESSION_OPERATION(C_SignUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen),
                  (c.real, pPart, ulPartLen), finish_final(c.fl->C_SignFinal, c.real))
SESSION_OPERATION(C_SignFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen),
                  (c.real, pSignature, pulSignatureLen), finish_final(c.fl->C_SignFinal, c.real))
SESSION_FORWARD(C_SignRecoverInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey),
                (c.real, pMechanism, hKey))
SESSION_OPERATION(C_SignRecover,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                   CK_ULONG_PTR pulSignatureLen),
                  (c.real, pData, ulDataLen, pSignature, pulSignatureLen),
                  finish_output(c.fl->C_SignRecover, c.real, pData, ulDataLen))

/* Verifying signatures and MACs */
SESSION_FORWARD(C_VerifyInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey),
                (c.real, pMechanism, hKey))
SESSION_OPERATION(C_Verify,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                   CK_ULONG ulSignatureLen),
                  (c.real, pData, ulDataLen, pSignature, ulSignatureLen),
                  (void)c.fl->C_Verify(c.real, pData, ulDataLen, pSignature, ulSignatureLen))
SESSION_OPERATION(C_VerifyUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen),
                  (c.real, pPart, ulPartLen), finish_verify(c.fl, c.real))
SESSION_OPERATION(C_VerifyFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen),
                  (c.real, pSignature, ulSignatureLen), (void)c.fl->C_VerifyFinal(c.real, pSignature, ulSignatureLen))
SESSION_FORWARD(C_VerifyRecoverInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey),
                (c.real, pMechanism, hKey))
SESSION_OPERATION(C_VerifyRecover,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen, CK_BYTE_PTR pData,
                   CK_ULONG_PTR pulDataLen),
                  (c.real, pSignature, ulSignatureLen, pData, pulDataLen),
                  finish_output(c.fl->C_VerifyRecover, c.real, pSignature, ulSignatureLen))

/* Dual-function cryptographic operations: both operations end. */
SESSION_OPERATION(C_DigestEncryptUpdate,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
                   CK_ULONG_PTR pulEncryptedPartLen),
                  (c.real, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen),
                  (finish_final(c.fl->C_DigestFinal, c.real), finish_final(c.fl->C_EncryptFinal, c.real)))
SESSION_OPERATION(C_DecryptDigestUpdate,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
                   CK_ULONG_PTR pulPartLen),
                  (c.real, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen),
                  (finish_final(c.fl->C_DecryptFinal, c.real), finish_final(c.fl->C_DigestFinal, c.real)))
SESSION_OPERATION(C_SignEncryptUpdate,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
                   CK_ULONG_PTR pulEncryptedPartLen),
                  (c.real, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen),
                  (finish_final(c.fl->C_SignFinal, c.real), finish_final(c.fl->C_EncryptFinal, c.real)))
SESSION_OPERATION(C_DecryptVerifyUpdate,
                  (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
                   CK_ULONG_PTR pulPartLen),
                  (c.real, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen),
                  (finish_final(c.fl->C_DecryptFinal, c.real), finish_verify(c.fl, c.real)))

/* Key management */
SESSION_FORWARD(C_GenerateKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                 CK_OBJECT_HANDLE_PTR phKey),
                (c.real, pMechanism, pTemplate, ulCount, phKey))
SESSION_FORWARD(C_GenerateKeyPair,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate,
                 CK_ULONG ulPublicKeyAttributeCount, CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
                 CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey),
                (c.real, pMechanism, pPublicKeyTemplate, ulPublicKeyAttributeCount, pPrivateKeyTemplate,
                 ulPrivateKeyAttributeCount, phPublicKey, phPrivateKey))
SESSION_FORWARD(C_WrapKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hWrappingKey,
                 CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen),
                (c.real, pMechanism, hWrappingKey, hKey, pWrappedKey, pulWrappedKeyLen))
SESSION_FORWARD(C_UnwrapKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hUnwrappingKey,
                 CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
                 CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey),
                (c.real, pMechanism, hUnwrappingKey, pWrappedKey, ulWrappedKeyLen, pTemplate, ulAttributeCount, phKey))
SESSION_FORWARD(C_DeriveKey,
                (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey,
                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey),
                (c.real, pMechanism, hBaseKey, pTemplate, ulAttributeCount, phKey))

/* Random number generation */
SESSION_FORWARD(C_SeedRandom, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen),
                (c.real, pSeed, ulSeedLen))
SESSION_FORWARD(C_GenerateRandom, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen),
                (c.real, RandomData, ulRandomLen))

/* Parallel function management (legacy) */
SESSION_FORWARD(C_GetFunctionStatus, (CK_SESSION_HANDLE hSession), (c.real))
SESSION_FORWARD(C_CancelFunction, (CK_SESSION_HANDLE hSession), (c.real))

/* ------------------------------------------------------------------------------------------ */
/* Slot events                                                                                */

/* Removals and insertions made through the configuration, plus the real module's own events
 * where it has them (SoftHSM has none). Blocking mode polls every SLICE_MS and ends with
 * CKR_CRYPTOKI_NOT_INITIALIZED when another thread calls C_Finalize. */
static CK_RV fw_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
    struct call c = {0};
    CK_RV rv = begin_global(FN_C_WaitForSlotEvent, &c);
    if (rv != CKR_OK) return rv;
    if (c.inject) return c.inject_rv;
    if (!pSlot || pReserved) return CKR_ARGUMENTS_BAD;
    lock();
    for (;;) {
        if (!g_initialized || c.epoch != g_epoch) {
            rv = CKR_CRYPTOKI_NOT_INITIALIZED;
            break;
        }
        conf_refresh_locked();
        if (g_nevents == 0 && g_real_events) {
            CK_SLOT_ID real_slot;
            CK_RV r = g_real->C_WaitForSlotEvent(CKF_DONT_BLOCK, &real_slot, NULL_PTR);
            if (r == CKR_OK) {
                inventory_locked(0);
                long i = token_by_real_locked(real_slot);
                event_push_locked(i >= 0 ? g_tokens[i].slot : real_slot);
            } else if (r != CKR_NO_EVENT) {
                g_real_events = 0;
            }
        }
        if (g_nevents > 0) {
            *pSlot = g_events[0];
            memmove(g_events, g_events + 1, (g_nevents - 1) * sizeof g_events[0]);
            g_nevents--;
            rv = CKR_OK;
            break;
        }
        if (flags & CKF_DONT_BLOCK) {
            rv = CKR_NO_EVENT;
            break;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += SLICE_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g_cond, &g_lock, &until);
    }
    unlock();
    return rv;
}

/* ------------------------------------------------------------------------------------------ */

static CK_FUNCTION_LIST g_list = {
    .version = {2, 40},
#define CK_PKCS11_FUNCTION_INFO(name) .name = fw_##name,
#include "pkcs11f.h"
#undef CK_PKCS11_FUNCTION_INFO
};

/* When the module is unloaded: our own memory only. The real module is neither finalised nor
 * closed here: at process exit its own destructors may already have run. */
__attribute__((destructor)) static void faults_unload(void)
{
    lock();
    tables_free_locked();
    config_free(&g_conf);
    free(g_conf_text);
    g_conf_text = NULL;
    unlock();
}
