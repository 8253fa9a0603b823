/* cuGetExportTable: the CUDA runtime's private interface to the driver.
 *
 * The runtime (libcudart_static.a, libcudart.so) asks for undocumented tables of function
 * pointers by UUID and calls into them for things the public API does not offer: loading the
 * program's embedded fatbins, getting the primary context, per-context storage for its own
 * state, tool hooks and an integrity check. Each table lives in its own file; this one only maps
 * the UUIDs to them. An unknown UUID is answered CUDA_ERROR_NOT_SUPPORTED (the runtime copes:
 * CUDA 13.0 asks first for f8cff951-..., which is optional), and GREY_SIM_TRACE=1 shows every
 * request. The tables' layouts are described in docs/cuda-runtime-on-simgpu.md. */
#include "sim_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct export_table {
    const char *name;
    unsigned char uuid[16];
    const void *(*get)(void);
} export_table;

static const export_table tables[] = {
    {"runtime interface",
     {0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9},
     sim_table_rt_interface},
    {"tools runtime callback hooks",
     {0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66},
     sim_table_tools_hooks},
    {"tools TLS",
     {0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc},
     sim_table_tools_tls},
    {"context-local storage",
     {0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93},
     sim_table_ctx_storage},
    {"context checks",
     {0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e},
     sim_table_ctx_checks},
    {"integrity check",
     {0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2},
     sim_table_integrity},
    {"cuFFT's private table (unknown; traced stubs)",
     {0x21, 0x31, 0x8c, 0x60, 0x97, 0x14, 0x32, 0x48, 0x8c, 0xa6, 0x41, 0xff, 0x73, 0x24, 0xc8, 0xf2},
     sim_table_fft},
    {"cuFFT's second private table (unknown; traced stubs)",
     {0x6e, 0x16, 0x3f, 0xbe, 0xb9, 0x58, 0x44, 0x4d, 0x83, 0x5c, 0xe1, 0x82, 0xaf, 0xf1, 0x99, 0x1e},
     sim_table_fft2},
};

/* The textual form the runtime's UUIDs are usually written in: bytes in memory order. */
static void uuid_text(const unsigned char *b, char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

CUresult CUDAAPI cuGetExportTable(const void **ppExportTable, const CUuuid *pExportTableId)
{
    if (!ppExportTable || !pExportTableId)
        return CUDA_ERROR_INVALID_VALUE;
    const unsigned char *id = (const unsigned char *)pExportTableId->bytes;
    char text[37];
    if (sim_trace_on())
        uuid_text(id, text);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (memcmp(tables[i].uuid, id, 16) == 0) {
            *ppExportTable = tables[i].get();
            if (sim_trace_on())
                sim_trace("cuGetExportTable %s: %s", text, tables[i].name);
            return CUDA_SUCCESS;
        }
    }
    *ppExportTable = NULL;
    if (sim_trace_on())
        sim_trace("cuGetExportTable %s: unknown table, not supported", text);
    return CUDA_ERROR_NOT_SUPPORTED;
}
