/* Parsing `nvidia-smi -q -x` (the XML form of nvidia-smi -q, documented by its DTD
 * nvsmi_device_v12.dtd): what the CSV query cannot give, above all the temperature thresholds
 * (gpu_temp_slow_threshold, gpu_temp_max_threshold) and the memory of each MIG instance. */
#ifndef GREY_SMI_XML_H
#define GREY_SMI_XML_H

#include <stddef.h>

#include "gpu_facts.h"

/* Parses the document into out (NVIDIA devices, smi_index in document order). A document cut off
 * or malformed part way keeps the GPUs read before the break (noted); the GPU being read when it
 * broke is kept as partial, with the fields read so far. Fewer <gpu> elements than attached_gpus
 * says is noted. Returns the number of devices. */
int smi_xml_parse(const char *text, size_t len, struct gpu_list *out);

#endif
