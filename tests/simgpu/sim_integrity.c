/* The integrity check (export table d4082055-bde6-704b-8d34-ba123c66e1f2).
 *
 * Before it runs anything the CUDA runtime asks the driver to prove itself: it calls entry 1
 * with a version number, the current time (Unix seconds) and a 16-byte result buffer, computes
 * the same value on its own side, and refuses to go on ("integrity checks failed", error 103)
 * unless they match. The value is a keyed hash, HMAC (RFC 2104) over MD2 (RFC 1319; block and
 * digest 16 bytes), with a fixed 16-byte key, of:
 *
 *   u32 driver version (what cuDriverGetVersion reports), u32 the version argument,
 *   u32 process id, u32 the low 32 bits of pthread_self(),
 *   the addresses of the runtime interface table, of this table and of entry 1 itself,
 *   u64 the time argument,
 *   then per device: its 16-byte UUID and the PCI domain, bus and device numbers as i32.
 *
 * The 16 digest bytes are written as two native 64-bit words. Versions ending in 0 or 1 are
 * answered with fixed words instead. MD2 comes from libmd. */
#include "sim_internal.h"

#include <md2.h>
#include <string.h>
#include <unistd.h>

static const unsigned char hmac_key[16] = {0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
                                           0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f};

/* What the hash covers, in this order and layout (x86-64: no padding). */
typedef struct integrity_input {
    uint32_t driver_version;
    uint32_t version;
    uint32_t pid;
    uint32_t thread;
    const void *rt_interface_table;
    const void *integrity_table;
    const void *check_fn;
    uint64_t unix_seconds;
} integrity_input;

typedef struct integrity_device {
    unsigned char uuid[16];
    int32_t pci_domain, pci_bus, pci_device;
} integrity_device;

_Static_assert(sizeof(integrity_input) == 48, "integrity input layout");
_Static_assert(sizeof(integrity_device) == 28, "integrity device layout");

static CUresult integrity_check(uint32_t version, uint64_t unix_seconds, uint64_t result[2]);

static const void *const integrity_table[3] = {
    (const void *)(sizeof(void *) * 3),
    (const void *)integrity_check,
    NULL,
};

const void *sim_table_integrity(void) { return integrity_table; }

/* HMAC's padded key blocks: the key is exactly one MD2 block, so no hashing or padding. */
static void md2_keyed_start(MD2_CTX *ctx, unsigned char pad)
{
    unsigned char block[16];
    for (int i = 0; i < 16; i++)
        block[i] = hmac_key[i] ^ pad;
    MD2Init(ctx);
    MD2Update(ctx, block, sizeof block);
}

static CUresult hash_devices(MD2_CTX *inner)
{
    int count = 0;
    CUresult r = cuDeviceGetCount(&count);
    for (int dev = 0; r == CUDA_SUCCESS && dev < count; dev++) {
        integrity_device d;
        memset(&d, 0, sizeof d);
        CUuuid uuid;
        int domain = 0, bus = 0, device = 0;
        if ((r = cuDeviceGetUuid_v2(&uuid, dev)) != CUDA_SUCCESS ||
            (r = cuDeviceGetAttribute(&domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, dev)) != CUDA_SUCCESS ||
            (r = cuDeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, dev)) != CUDA_SUCCESS ||
            (r = cuDeviceGetAttribute(&device, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, dev)) != CUDA_SUCCESS)
            break;
        memcpy(d.uuid, uuid.bytes, sizeof d.uuid);
        d.pci_domain = domain;
        d.pci_bus = bus;
        d.pci_device = device;
        MD2Update(inner, (const unsigned char *)&d, sizeof d);
    }
    return r;
}

static CUresult integrity_check(uint32_t version, uint64_t unix_seconds, uint64_t result[2])
{
    if (!result)
        return CUDA_ERROR_INVALID_VALUE;
    sim_trace("export table integrity[1](version %u, time %llu)", version,
              (unsigned long long)unix_seconds);
    if (version % 10 == 0) {
        result[0] = 0x3341181c03cb675cULL;
        result[1] = 0x8ed383aa1f4cd1e8ULL;
        return CUDA_SUCCESS;
    }
    if (version % 10 == 1) {
        result[0] = 0x1841181c03cb675cULL;
        result[1] = 0x8ed383aa1f4cd1e8ULL;
        return CUDA_SUCCESS;
    }

    int driver_version = 0;
    cuDriverGetVersion(&driver_version);
    integrity_input in;
    memset(&in, 0, sizeof in);
    in.driver_version = (uint32_t)driver_version;
    in.version = version;
    in.pid = (uint32_t)getpid();
    in.thread = (uint32_t)(uintptr_t)pthread_self();
    in.rt_interface_table = sim_table_rt_interface();
    in.integrity_table = integrity_table;
    in.check_fn = integrity_table[1];
    in.unix_seconds = unix_seconds;

    MD2_CTX ctx;
    md2_keyed_start(&ctx, 0x36);
    MD2Update(&ctx, (const unsigned char *)&in, sizeof in);
    CUresult r = hash_devices(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    unsigned char inner_digest[16];
    MD2Final(inner_digest, &ctx);

    unsigned char digest[16];
    md2_keyed_start(&ctx, 0x5c);
    MD2Update(&ctx, inner_digest, sizeof inner_digest);
    MD2Final(digest, &ctx);
    memcpy(result, digest, sizeof digest);
    return CUDA_SUCCESS;
}
