/* State file I/O. Format, one token a line: "<tries left> <label>"; '#' starts a comment.
 * Updates rewrite the file in place under an exclusive flock, so readers that take the shared
 * lock never see a half-written file, in this process or another one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

int faults_read_fd(int fd, char **out, size_t *outlen)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (len == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);
        if (n < 0) {
            if (errno == EINTR) continue;
            free(buf);
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

static void parse_entries(struct pin_file *f, char *text)
{
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *end = NULL;
        long v = strtol(line, &end, 10);
        if (line[0] != '#' && end != line && *end == ' ') {
            char label[FAULTS_LABEL_MAX + 1];
            label_from_padded((const CK_UTF8CHAR *)end + 1, strlen(end + 1), label);
            size_t l = strlen(label);
            while (l > 0 && (label[l - 1] == '\r' || label[l - 1] == ' ')) label[--l] = '\0';
            if (v >= 0 && v <= 1000000 && l > 0) pinfile_set(f, label, (int)v);
        }
        line = next;
    }
}

int pinfile_open(struct pin_file *f, const char *path, int exclusive)
{
    memset(f, 0, sizeof *f);
    f->fd = open(path, exclusive ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        if (!exclusive && errno == ENOENT) return 0; /* no file yet: every counter is full */
        return -1;
    }
    f->writable = exclusive;
    while (flock(f->fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) goto fail;
    }
    char *text = NULL;
    size_t len = 0;
    if (faults_read_fd(f->fd, &text, &len) != 0) goto fail;
    parse_entries(f, text);
    free(text);
    return 0;
fail : {
    int saved = errno;
    close(f->fd);
    f->fd = -1;
    errno = saved;
    return -1;
}
}

int pinfile_get(const struct pin_file *f, const char *label, int max)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->entries[i].label, label) == 0) {
            int v = f->entries[i].remaining;
            return v < 0 ? 0 : v > max ? max : v;
        }
    }
    return max;
}

int pinfile_set(struct pin_file *f, const char *label, int remaining)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->entries[i].label, label) == 0) {
            if (remaining >= 0) {
                f->entries[i].remaining = remaining;
            } else {
                f->entries[i] = f->entries[f->n - 1];
                f->n--;
            }
            return 0;
        }
    }
    if (remaining < 0) return 0;
    struct pin_entry *grown = realloc(f->entries, (f->n + 1) * sizeof *grown);
    if (!grown) return -1;
    f->entries = grown;
    f->entries[f->n].remaining = remaining;
    snprintf(f->entries[f->n].label, sizeof f->entries[f->n].label, "%s", label);
    f->n++;
    return 0;
}

int pinfile_save(struct pin_file *f)
{
    if (f->fd < 0 || !f->writable) {
        errno = EBADF;
        return -1;
    }
    static const char header[] = "# pkcs11-faults: user-PIN tries left per token (\"<tries> <label>\")\n";
    size_t cap = sizeof header + f->n * (FAULTS_LABEL_MAX + 16);
    char *buf = malloc(cap);
    if (!buf) return -1;
    size_t len = (size_t)snprintf(buf, cap, "%s", header);
    for (size_t i = 0; i < f->n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%d %s\n", f->entries[i].remaining, f->entries[i].label);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(f->fd, buf + done, len - done, (off_t)done);
        if (w < 0) {
            if (errno == EINTR) continue;
            free(buf);
            return -1;
        }
        done += (size_t)w;
    }
    free(buf);
    return ftruncate(f->fd, (off_t)len);
}

void pinfile_close(struct pin_file *f)
{
    if (f->fd >= 0) close(f->fd); /* closing drops the flock */
    f->fd = -1;
    free(f->entries);
    f->entries = NULL;
    f->n = 0;
}
