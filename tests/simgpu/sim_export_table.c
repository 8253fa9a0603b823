/* cuGetExportTable: the CUDA runtime's private interface to the driver.
 *
 * The runtime asks for undocumented function tables by UUID. None is provided yet, so every
 * request is answered CUDA_ERROR_NOT_SUPPORTED; a later step fills in the tables the runtime
 * needs to run nvcc-built programs. */
#include "sim_internal.h"

CUresult CUDAAPI cuGetExportTable(const void **ppExportTable, const CUuuid *pExportTableId)
{
    if (!ppExportTable || !pExportTableId)
        return CUDA_ERROR_INVALID_VALUE;
    *ppExportTable = NULL;
    return CUDA_ERROR_NOT_SUPPORTED;
}
