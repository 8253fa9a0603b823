/* Stream capture: cuStreamBeginCapture ... cuStreamEndCapture turn the work issued to a stream
 * into a graph (sim_graph.c) instead of running it.
 *
 * A capture is keyed by the stream's timeline, so created streams and the per-thread default
 * stream can be captured and the legacy NULL stream cannot (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
 * as on hardware). Each captured operation becomes a node that depends on the capture's current
 * dependencies (at first none, or those given to cuStreamBeginCaptureToGraph), and then is the
 * only one: work on one stream forms a chain. cuStreamUpdateCaptureDependencies replaces or
 * extends the set.
 *
 * Kernel launches, asynchronous copies and memsets consult the capture (sim_capture_op); other
 * calls on a capturing stream run as usual. Not modelled: cross-stream capture through events,
 * the invalidation of a global-mode capture by unsafe calls on other threads, and
 * stream-ordered allocation inside a capture. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

_Atomic int sim_captures_active;

typedef struct capture {
    sim_timeline *tl;
    CUgraph graph;
    uint64_t id;
    CUstreamCaptureMode mode;
    CUgraphNode *deps;  /* what the next captured node depends on */
    size_t ndeps, cap;
    struct capture *next;
} capture;

static pthread_mutex_t capture_lock = PTHREAD_MUTEX_INITIALIZER;
static capture *captures;
static uint64_t next_id = 1;
static _Thread_local CUstreamCaptureMode thread_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;

/* Callers hold capture_lock. */
static capture *find(sim_timeline *tl)
{
    capture *c = captures;
    while (c && c->tl != tl)
        c = c->next;
    return c;
}

/* Callers hold capture_lock. */
static bool set_deps(capture *c, const CUgraphNode *deps, size_t n, bool add)
{
    size_t total = add ? c->ndeps + n : n;
    if (total > c->cap) {
        CUgraphNode *grown = realloc(c->deps, total * sizeof *grown);
        if (!grown)
            return false;
        c->deps = grown;
        c->cap = total;
    }
    if (n)
        memcpy(c->deps + (add ? c->ndeps : 0), deps, n * sizeof *deps);
    c->ndeps = total;
    return true;
}

static CUresult resolve(CUstream s, bool per_thread, sim_timeline **tl)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx = sim_ctx_current();
    if (ctx && (r = sim_ctx_check(ctx)) != CUDA_SUCCESS)
        return r;
    return sim_stream_timeline(s, per_thread, &ctx, tl);
}

static bool is_legacy(CUstream s, bool per_thread)
{
    return s == CU_STREAM_LEGACY || (s == NULL && !per_thread);
}

/* ------------------------------------------------------------------ the hot-path hooks */

bool sim_capture_op(sim_timeline *tl, const sim_node_op *op, CUresult *r)
{
    pthread_mutex_lock(&capture_lock);
    capture *c = find(tl);
    if (c) {
        CUgraphNode node;
        *r = sim_graph_append(c->graph, op, c->deps, c->ndeps, &node);
        if (*r == CUDA_SUCCESS && !set_deps(c, &node, 1, false))
            *r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    pthread_mutex_unlock(&capture_lock);
    return c != NULL;
}

CUgraph sim_capture_graph(sim_timeline *tl)
{
    pthread_mutex_lock(&capture_lock);
    capture *c = find(tl);
    CUgraph g = c ? c->graph : NULL;
    pthread_mutex_unlock(&capture_lock);
    return g;
}

/* ------------------------------------------------------------------ begin and end */

static CUresult begin(CUstream s, bool per_thread, CUgraph into, const CUgraphNode *deps,
                      size_t ndeps, CUstreamCaptureMode mode)
{
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    if (mode != CU_STREAM_CAPTURE_MODE_GLOBAL && mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
        mode != CU_STREAM_CAPTURE_MODE_RELAXED)
        return CUDA_ERROR_INVALID_VALUE;
    if (is_legacy(s, per_thread))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    capture *c = calloc(1, sizeof *c);
    if (!c)
        return CUDA_ERROR_OUT_OF_MEMORY;
    if (into) {
        c->graph = into;
    } else if ((r = sim_graph_new(&c->graph)) != CUDA_SUCCESS) {
        free(c);
        return r;
    }
    c->tl = tl;
    c->mode = mode;
    pthread_mutex_lock(&capture_lock);
    if (find(tl)) {
        r = CUDA_ERROR_ILLEGAL_STATE;
    } else if (!set_deps(c, deps, ndeps, false)) {
        r = CUDA_ERROR_OUT_OF_MEMORY;
    } else {
        c->id = next_id++;
        c->next = captures;
        captures = c;
        atomic_fetch_add(&sim_captures_active, 1);
    }
    pthread_mutex_unlock(&capture_lock);
    if (r != CUDA_SUCCESS) {
        if (!into)
            cuGraphDestroy(c->graph);
        free(c->deps);
        free(c);
    }
    return r;
}

CUresult CUDAAPI cuStreamBeginCapture_v2(CUstream hStream, CUstreamCaptureMode mode)
{ return begin(hStream, false, NULL, NULL, 0, mode); }
CUresult CUDAAPI cuStreamBeginCapture_v2_ptsz(CUstream hStream, CUstreamCaptureMode mode)
{ return begin(hStream, true, NULL, NULL, 0, mode); }
/* CUDA 10.0: no mode argument; global mode. */
CUresult CUDAAPI cuStreamBeginCapture(CUstream hStream)
{ return begin(hStream, false, NULL, NULL, 0, CU_STREAM_CAPTURE_MODE_GLOBAL); }
CUresult CUDAAPI cuStreamBeginCapture_ptsz(CUstream hStream)
{ return begin(hStream, true, NULL, NULL, 0, CU_STREAM_CAPTURE_MODE_GLOBAL); }

/* Edge data (ports, edge types) is not modelled: every edge is a plain full dependency. */
static CUresult begin_to_graph(CUstream s, bool per_thread, CUgraph g, const CUgraphNode *deps,
                               size_t ndeps, CUstreamCaptureMode mode)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!g || (ndeps && !deps))
        return CUDA_ERROR_INVALID_VALUE;
    size_t count = 0;
    if ((r = cuGraphGetNodes(g, NULL, &count)) != CUDA_SUCCESS) /* validates the handle */
        return r;
    return begin(s, per_thread, g, deps, ndeps, mode);
}

CUresult CUDAAPI cuStreamBeginCaptureToGraph(CUstream hStream, CUgraph hGraph,
                                             const CUgraphNode *dependencies,
                                             const CUgraphEdgeData *dependencyData,
                                             size_t numDependencies, CUstreamCaptureMode mode)
{
    (void)dependencyData;
    return begin_to_graph(hStream, false, hGraph, dependencies, numDependencies, mode);
}

CUresult CUDAAPI cuStreamBeginCaptureToGraph_ptsz(CUstream hStream, CUgraph hGraph,
                                                  const CUgraphNode *dependencies,
                                                  const CUgraphEdgeData *dependencyData,
                                                  size_t numDependencies, CUstreamCaptureMode mode)
{
    (void)dependencyData;
    return begin_to_graph(hStream, true, hGraph, dependencies, numDependencies, mode);
}

static CUresult end(CUstream s, bool per_thread, CUgraph *phGraph)
{
    if (!phGraph)
        return CUDA_ERROR_INVALID_VALUE;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&capture_lock);
    capture **pp = &captures;
    while (*pp && (*pp)->tl != tl)
        pp = &(*pp)->next;
    capture *c = *pp;
    if (c) {
        *pp = c->next;
        atomic_fetch_sub(&sim_captures_active, 1);
    }
    pthread_mutex_unlock(&capture_lock);
    if (!c)
        return CUDA_ERROR_ILLEGAL_STATE;
    *phGraph = c->graph;
    free(c->deps);
    free(c);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamEndCapture(CUstream hStream, CUgraph *phGraph)
{ return end(hStream, false, phGraph); }
CUresult CUDAAPI cuStreamEndCapture_ptsz(CUstream hStream, CUgraph *phGraph)
{ return end(hStream, true, phGraph); }

/* ------------------------------------------------------------------ queries */

/* Everything a capture query can report; any output may be NULL. */
typedef struct capture_info {
    CUstreamCaptureStatus *status;
    cuuint64_t *id;
    CUgraph *graph;
    const CUgraphNode **deps;
    const CUgraphEdgeData **edges;
    size_t *ndeps;
} capture_info;

static CUresult info(CUstream s, bool per_thread, capture_info out)
{
    if (!out.status)
        return CUDA_ERROR_INVALID_VALUE;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    if (s == CU_STREAM_LEGACY || (s == NULL && !per_thread)) {
        /* The legacy stream is never captured (the real driver reports an error for it while
         * another stream captures in global mode; with none capturing it reports "none"). */
        *out.status = CU_STREAM_CAPTURE_STATUS_NONE;
        return CUDA_SUCCESS;
    }
    pthread_mutex_lock(&capture_lock);
    capture *c = find(tl);
    *out.status = c ? CU_STREAM_CAPTURE_STATUS_ACTIVE : CU_STREAM_CAPTURE_STATUS_NONE;
    if (c) {
        if (out.id)
            *out.id = c->id;
        if (out.graph)
            *out.graph = c->graph;
        if (out.deps)
            *out.deps = c->deps;
        if (out.edges)
            *out.edges = NULL; /* all default edges */
        if (out.ndeps)
            *out.ndeps = c->ndeps;
    }
    pthread_mutex_unlock(&capture_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamIsCapturing(CUstream hStream, CUstreamCaptureStatus *captureStatus)
{ return info(hStream, false, (capture_info){.status = captureStatus}); }
CUresult CUDAAPI cuStreamIsCapturing_ptsz(CUstream hStream, CUstreamCaptureStatus *captureStatus)
{ return info(hStream, true, (capture_info){.status = captureStatus}); }

CUresult CUDAAPI cuStreamGetCaptureInfo(CUstream hStream, CUstreamCaptureStatus *captureStatus_out,
                                        cuuint64_t *id_out)
{ return info(hStream, false, (capture_info){captureStatus_out, id_out, NULL, NULL, NULL, NULL}); }
CUresult CUDAAPI cuStreamGetCaptureInfo_ptsz(CUstream hStream,
                                             CUstreamCaptureStatus *captureStatus_out,
                                             cuuint64_t *id_out)
{ return info(hStream, true, (capture_info){captureStatus_out, id_out, NULL, NULL, NULL, NULL}); }

CUresult CUDAAPI cuStreamGetCaptureInfo_v2(CUstream hStream,
                                           CUstreamCaptureStatus *captureStatus_out,
                                           cuuint64_t *id_out, CUgraph *graph_out,
                                           const CUgraphNode **dependencies_out,
                                           size_t *numDependencies_out)
{
    return info(hStream, false, (capture_info){captureStatus_out, id_out, graph_out,
                                               dependencies_out, NULL, numDependencies_out});
}
CUresult CUDAAPI cuStreamGetCaptureInfo_v2_ptsz(CUstream hStream,
                                                CUstreamCaptureStatus *captureStatus_out,
                                                cuuint64_t *id_out, CUgraph *graph_out,
                                                const CUgraphNode **dependencies_out,
                                                size_t *numDependencies_out)
{
    return info(hStream, true, (capture_info){captureStatus_out, id_out, graph_out,
                                              dependencies_out, NULL, numDependencies_out});
}

CUresult CUDAAPI cuStreamGetCaptureInfo_v3(CUstream hStream,
                                           CUstreamCaptureStatus *captureStatus_out,
                                           cuuint64_t *id_out, CUgraph *graph_out,
                                           const CUgraphNode **dependencies_out,
                                           const CUgraphEdgeData **edgeData_out,
                                           size_t *numDependencies_out)
{
    return info(hStream, false, (capture_info){captureStatus_out, id_out, graph_out,
                                               dependencies_out, edgeData_out,
                                               numDependencies_out});
}
CUresult CUDAAPI cuStreamGetCaptureInfo_v3_ptsz(CUstream hStream,
                                                CUstreamCaptureStatus *captureStatus_out,
                                                cuuint64_t *id_out, CUgraph *graph_out,
                                                const CUgraphNode **dependencies_out,
                                                const CUgraphEdgeData **edgeData_out,
                                                size_t *numDependencies_out)
{
    return info(hStream, true, (capture_info){captureStatus_out, id_out, graph_out,
                                              dependencies_out, edgeData_out,
                                              numDependencies_out});
}

static CUresult update_deps(CUstream s, bool per_thread, CUgraphNode *deps, size_t n,
                            unsigned int flags)
{
    if ((n && !deps) || (flags != CU_STREAM_ADD_CAPTURE_DEPENDENCIES &&
                         flags != CU_STREAM_SET_CAPTURE_DEPENDENCIES))
        return CUDA_ERROR_INVALID_VALUE;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&capture_lock);
    capture *c = find(tl);
    if (!c)
        r = CUDA_ERROR_ILLEGAL_STATE;
    else if (!set_deps(c, deps, n, flags == CU_STREAM_ADD_CAPTURE_DEPENDENCIES))
        r = CUDA_ERROR_OUT_OF_MEMORY;
    pthread_mutex_unlock(&capture_lock);
    return r;
}

CUresult CUDAAPI cuStreamUpdateCaptureDependencies(CUstream hStream, CUgraphNode *dependencies,
                                                   size_t numDependencies, unsigned int flags)
{ return update_deps(hStream, false, dependencies, numDependencies, flags); }
CUresult CUDAAPI cuStreamUpdateCaptureDependencies_ptsz(CUstream hStream,
                                                        CUgraphNode *dependencies,
                                                        size_t numDependencies, unsigned int flags)
{ return update_deps(hStream, true, dependencies, numDependencies, flags); }
CUresult CUDAAPI cuStreamUpdateCaptureDependencies_v2(CUstream hStream, CUgraphNode *dependencies,
                                                      const CUgraphEdgeData *dependencyData,
                                                      size_t numDependencies, unsigned int flags)
{
    (void)dependencyData;
    return update_deps(hStream, false, dependencies, numDependencies, flags);
}
CUresult CUDAAPI cuStreamUpdateCaptureDependencies_v2_ptsz(CUstream hStream,
                                                           CUgraphNode *dependencies,
                                                           const CUgraphEdgeData *dependencyData,
                                                           size_t numDependencies,
                                                           unsigned int flags)
{
    (void)dependencyData;
    return update_deps(hStream, true, dependencies, numDependencies, flags);
}

/* The calling thread's capture interaction mode; the mode is not enforced (see above). */
CUresult CUDAAPI cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode *mode)
{
    if (!mode)
        return CUDA_ERROR_INVALID_VALUE;
    CUstreamCaptureMode m = *mode;
    if (m != CU_STREAM_CAPTURE_MODE_GLOBAL && m != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
        m != CU_STREAM_CAPTURE_MODE_RELAXED)
        return CUDA_ERROR_INVALID_VALUE;
    *mode = thread_mode;
    thread_mode = m;
    return CUDA_SUCCESS;
}
