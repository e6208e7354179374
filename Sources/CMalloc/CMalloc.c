#include "CMalloc.h"

// Any C library header defines __GLIBC__ when the C library is glibc.
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>

bool pushrelay_fix_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes) == 1;
}
#else
bool pushrelay_fix_mmap_threshold(int bytes) {
    (void)bytes;
    return false;
}
#endif
