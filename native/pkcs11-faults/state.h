/* The state file: user-PIN tries left per token label, shared by every process that loads the
 * module with the same configuration (a locked token stays locked, like a real one). */
#ifndef PKCS11_FAULTS_STATE_H
#define PKCS11_FAULTS_STATE_H

#include <stddef.h>

#include "config.h"

struct pin_entry {
    int remaining;
    char label[FAULTS_LABEL_MAX + 1];
};

struct pin_file {
    int fd; /* -1: the file does not exist (read-only open) */
    int writable;
    struct pin_entry *entries;
    size_t n;
};

/* Opens and locks the file (flock: shared to read, exclusive to update; an exclusive open creates
 * it) and reads it. 0 on success; -1 with errno otherwise. */
FAULTS_INTERNAL int pinfile_open(struct pin_file *f, const char *path, int exclusive);
/* Tries left for `label`, clamped to 0..max; `max` when the file has no entry. */
FAULTS_INTERNAL int pinfile_get(const struct pin_file *f, const char *label, int max);
/* Sets the entry (remaining < 0 removes it). 0, or -1 when out of memory. */
FAULTS_INTERNAL int pinfile_set(struct pin_file *f, const char *label, int remaining);
/* Writes the entries back (exclusive open only). 0, or -1 with errno. */
FAULTS_INTERNAL int pinfile_save(struct pin_file *f);
/* Reads a whole file from an open descriptor into a NUL-terminated heap buffer. 0, or -1 with
 * errno. */
FAULTS_INTERNAL int faults_read_fd(int fd, char **out, size_t *outlen);
/* Unlocks, closes and frees. */
FAULTS_INTERNAL void pinfile_close(struct pin_file *f);

#endif
