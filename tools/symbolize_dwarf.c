/* A module's names through libdwfl (symbolize_dwarf.h).
 *
 * The module is reported at load bias 0, so addresses are the file's own (what the hook records:
 * a return address less the module's l_addr). The name of the innermost scope comes from DWARF
 * (dwarf_getscopes: inlined subroutines first, then the subprogram), its file:line from the line
 * table; each inlined scope's DW_AT_call_file/DW_AT_call_line give the line of the caller, as
 * addr2line -i does. Without DWARF the ELF symbol table still gives the function. */
#include "symbolize_dwarf.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct grey_dwarf_module {
    Dwfl *dwfl;
    Dwfl_Module *mod;
};

static char *debuginfo_path; /* libdwfl's default (/usr/lib/debug and .debug next to the file) */

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* C++ names are demangled by the C++ runtime's own __cxa_demangle, taken from libstdc++ when it
 * is installed (it is wherever a CUDA program runs): linking it into a C tool would be a hard
 * dependency for a nicety. */
typedef char *(*demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);
static demangle_fn demangler;
static pthread_once_t demangler_once = PTHREAD_ONCE_INIT;

static void find_demangler(void)
{
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    if (h)
        *(void **)&demangler = dlsym(h, "__cxa_demangle");
}

static char *demangled(const char *name)
{
    if (!name)
        return NULL;
    if (strncmp(name, "_Z", 2) == 0) {
        pthread_once(&demangler_once, find_demangler);
        int status = -1;
        char *d = demangler ? demangler(name, NULL, NULL, &status) : NULL;
        if (d && status == 0)
            return d;
        free(d);
    }
    return strdup(name);
}

struct grey_dwarf_module *grey_dwarf_open(const char *path)
{
    struct grey_dwarf_module *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->dwfl = dwfl_begin(&callbacks);
    if (!m->dwfl) {
        free(m);
        return NULL;
    }
    dwfl_report_begin(m->dwfl);
    m->mod = dwfl_report_elf(m->dwfl, path, path, -1, 0, false);
    dwfl_report_end(m->dwfl, NULL, NULL);
    if (!m->mod) {
        grey_dwarf_close(m);
        return NULL;
    }
    return m;
}

void grey_dwarf_close(struct grey_dwarf_module *m)
{
    if (!m)
        return;
    dwfl_end(m->dwfl);
    free(m);
}

/* A function's name: its linkage name (demangled) or its plain name, following
 * DW_AT_abstract_origin and DW_AT_specification as inlined and out-of-class ones need. */
static char *scope_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return demangled(name);
}

/* Where an inlined scope was called: DW_AT_call_file (an index into its unit's file table) and
 * DW_AT_call_line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inlined, struct grey_symbol *caller)
{
    Dwarf_Attribute attr;
    Dwarf_Word file = 0, line = 0;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &file) == 0 &&
        dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && file < nfiles) {
        const char *name = dwarf_filesrc(files, file, NULL, NULL);
        if (name)
            caller->file = strdup(name);
    }
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &line) == 0)
        caller->line = (unsigned)line;
}

void grey_dwarf_lookup(struct grey_dwarf_module *m, uint64_t addr, struct grey_symbol *sym)
{
    memset(sym, 0, sizeof *sym);
    Dwfl_Line *line = dwfl_module_getsrc(m->mod, addr);
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file) {
            sym->file = strdup(file);
            sym->line = lineno > 0 ? (unsigned)lineno : 0;
        }
    }
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(m->mod, addr, &bias);
    Dwarf_Die *scopes = NULL;
    int n = cu ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
    struct grey_symbol *frame = sym;
    for (int i = 0; i < n; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
            continue; /* lexical blocks and the unit itself */
        frame->function = scope_name(&scopes[i]);
        if (tag == DW_TAG_subprogram)
            break;
        struct grey_symbol *caller = calloc(1, sizeof *caller);
        if (!caller)
            break;
        call_site(cu, &scopes[i], caller);
        frame->inlined_into = caller;
        frame = caller;
    }
    free(scopes);
    if (!sym->function) /* no DWARF for it: the symbol table's name */
        sym->function = demangled(dwfl_module_addrname(m->mod, addr));
    /* An inlined chain whose outermost function DWARF could not name: take the symbol table's. */
    if (frame != sym && !frame->function)
        frame->function = demangled(dwfl_module_addrname(m->mod, addr));
}
