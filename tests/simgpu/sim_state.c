/* Mapping the shared simulator state (sim_state.h). */
#include "sim_state.h"
#include "sim_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sim_state private_state; /* when the shared file cannot be used */
static struct sim_state *state;
static int state_fd = -1;              /* the mapped file, kept open for sim_state_fd */
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static const char zero_magic[8];

static void state_path(char *path, size_t len)
{
    const char *env = getenv("GREY_SIM_STATE");
    if (env && *env)
        snprintf(path, len, "%s", env);
    else
        snprintf(path, len, "/dev/shm/grey-sim-v5-%u", (unsigned)getuid());
}

/* The file must be empty, new, or ours: anything else (a version 1 state, some other file) is
 * left exactly as it is. */
static bool foreign(int fd)
{
    char magic[8];
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    if (n <= 0)
        return false;
    if (n == (ssize_t)sizeof magic &&
        (memcmp(magic, zero_magic, sizeof magic) == 0 || memcmp(magic, SIM_STATE_MAGIC, sizeof magic) == 0))
        return false;
    return true;
}

static struct sim_state *map_shared(void)
{
    char path[512];
    state_path(path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        sim_trace("state %s: %s; this process keeps its own", path, strerror(errno));
        return NULL;
    }
    if (foreign(fd)) {
        sim_trace("state %s: not a version 4 simulator state; this process keeps its own", path);
        close(fd);
        return NULL;
    }
    struct stat st;
    /* Only ever grown, so a process mapping it meanwhile never sees it shrink. */
    if (fstat(fd, &st) != 0 || (st.st_size < (off_t)sizeof(struct sim_state) &&
                                ftruncate(fd, sizeof(struct sim_state)) != 0)) {
        sim_trace("state %s: %s; this process keeps its own", path, strerror(errno));
        close(fd);
        return NULL;
    }
    void *p = mmap(NULL, sizeof(struct sim_state), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        sim_trace("state %s: mmap: %s; this process keeps its own", path, strerror(errno));
        close(fd);
        return NULL;
    }
    state_fd = fd;
    struct sim_state *s = p;
    /* Two first processes may both stamp it: they write the same bytes. */
    if (memcmp(s->magic, zero_magic, sizeof zero_magic) == 0)
        memcpy(s->magic, SIM_STATE_MAGIC, sizeof s->magic);
    return s;
}

static void state_init(void)
{
    struct sim_state *s = map_shared();
    state = s ? s : &private_state;
}

struct sim_state *sim_state(void)
{
    pthread_once(&state_once, state_init);
    return state;
}

int sim_state_fd(void)
{
    pthread_once(&state_once, state_init);
    return state_fd;
}
