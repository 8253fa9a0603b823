/* Every function the hook exports must also be what dlsym hands out for that name on the vendor
 * library's own handle, or a program that looks functions up by name would bypass it.
 *
 *   prog_dlsym_table NAME...     (run with the hook preloaded)
 *
 * For each name: dlsym(dlopen(libcuda.so.1, libnvidia-ml.so.1 or libamdhip64.so.5, by the name's
 * prefix), NAME) must lie in libgreyhook.so. The audit interface's la_* entry points are the
 * dynamic linker's, not a vendor's, and are skipped like dlsym and dlvsym. Prints "FAIL: NAME ..." for each
 * that does not. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW);
    void *nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    void *hip = dlopen("libamdhip64.so.5", RTLD_NOW);
    int failures = 0;
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (strcmp(name, "dlsym") == 0 || strcmp(name, "dlvsym") == 0 || strncmp(name, "la_", 3) == 0)
            continue;
        void *lib = strncmp(name, "nvml", 4) == 0 ? nvml : strncmp(name, "hip", 3) == 0 ? hip : cuda;
        void *fn = lib ? dlsym(lib, name) : NULL;
        Dl_info info;
        if (!fn || !dladdr(fn, &info) || !info.dli_fname || !strstr(info.dli_fname, "libgreyhook.so")) {
            printf("FAIL: dlsym(%s) does not reach the hook (%s)\n", name,
                   fn && dladdr(fn, &info) ? info.dli_fname : "not found");
            failures++;
        }
    }
    if (failures)
        return 1;
    printf("prog_dlsym_table: %d names ok\n", argc - 1);
    return 0;
}
