#ifndef PUSHRELAY_CMALLOC_H
#define PUSHRELAY_CMALLOC_H

#include <stdbool.h>

/// Fixes glibc's mmap threshold (`mallopt(M_MMAP_THRESHOLD, bytes)`): blocks of at least `bytes` are then
/// always mapped on their own and returned to the system when freed. Swift's Glibc module does not
/// export <malloc.h>. Returns false where the C library is not glibc, or when glibc refuses the value.
bool pushrelay_fix_mmap_threshold(int bytes);

#endif
