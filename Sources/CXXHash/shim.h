// System library shim: XXH3 content hashes and chunk checksums (libxxhash, dynamically linked;
// XXH_INLINE_ALL is deliberately not defined so the library's tested build is used).
#include <xxhash.h>
