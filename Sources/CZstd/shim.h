// System library shim: the recording format compresses chunk payloads with zstd.
#include <zstd.h>
