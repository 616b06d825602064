/* PKCS#11 2.40 types for the fault-injecting module, plus the tables shared by its parts.
 *
 * The OASIS headers come from node_modules/pkcs11js/includes/pkcs11/ (build.sh adds it with
 * -I; they are not copied here). That copy already defines the Unix platform macros (CK_PTR,
 * CK_DECLARE_FUNCTION, ...), so it is included as is. */
#ifndef PKCS11_FAULTS_P11_H
#define PKCS11_FAULTS_P11_H

#include "pkcs11.h"

/* One id per entry of CK_FUNCTION_LIST, in its order, generated from pkcs11f.h (the header is
 * meant to be included this way: it has no include guard and lists every function through
 * CK_PKCS11_FUNCTION_INFO). */
enum fn_id {
#define CK_PKCS11_FUNCTION_INFO(name) FN_##name,
#include "pkcs11f.h"
#undef CK_PKCS11_FUNCTION_INFO
    FN_COUNT
};

/* Internal symbols shared between the translation units; only C_GetFunctionList is exported. */
#define FAULTS_INTERNAL __attribute__((visibility("hidden")))

/* "C_Sign" for FN_C_Sign. */
FAULTS_INTERNAL const char *fn_name(int id);
/* FN_* for a function name, or -1. */
FAULTS_INTERNAL int fn_lookup(const char *name);
/* "CKR_PIN_LOCKED" for 0xA4, or NULL for a code without a name. */
FAULTS_INTERNAL const char *ckr_name(CK_RV rv);
/* A CKR_* name or a number (0x hex or decimal); 0 on success, -1 if not recognised. */
FAULTS_INTERNAL int ckr_parse(const char *text, CK_RV *out);

#endif
