/* Opening and creating files in places other users can write (/dev/shm, /tmp, a shared
 * directory) without being led elsewhere: the directory is opened first and checked, the file is
 * opened relative to it with O_NOFOLLOW (a symlink planted at the name is refused, never
 * followed), its type is checked with fstat on the open descriptor, new files are created with
 * O_EXCL, and temporary names are unpredictable (mkostemp). Used by the ledger (policy/ledger.c)
 * and by the tools that write reports and plans. Every failure is one line naming the path. */
#ifndef GREY_SAFE_FILE_H
#define GREY_SAFE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Opens path for access (O_RDONLY or O_RDWR) without following a symlink at its last component.
 * create: a missing file is created with O_EXCL and mode (before the umask), and *created says
 * so. The directory must be owned by this user or root, and, if others may write it, sticky (so
 * they cannot rename another file into place). *st is the open file's fstat; it must be a
 * regular file. Returns the descriptor (O_CLOEXEC) or -1 with the reason in err. */
int grey_safe_open(const char *path, int access, bool create, mode_t mode, struct stat *st, bool *created,
                   char *err, size_t errlen);

/* Creates a new, empty temporary file beside path, with an unpredictable name, O_EXCL, mode
 * exactly as given (not widened by a pre-existing file, not narrowed by the umask). Its name goes
 * to tmp (tmplen bytes). Returns the descriptor or -1 with the reason in err. */
int grey_safe_temp_beside(const char *path, mode_t mode, char *tmp, size_t tmplen, char *err, size_t errlen);

/* The mode a replacement of path should have: want, narrowed to the existing file's permission
 * bits when path is a regular file already (never widened). */
mode_t grey_safe_replacement_mode(const char *path, mode_t want);

#endif
