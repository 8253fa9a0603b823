/* Publishing this process's largest fingerprinted buffers in the node's table beside the ledger
 * (policy/fp_table.h), for grey-report --node. Called by the recorder after each snapshot, under
 * its lock; never on the alloc/free path. */
#ifndef GREY_FP_PUBLISH_H
#define GREY_FP_PUBLISH_H

void grey_fp_publish(void);
/* A fork child has another slot: it maps the table again at its first publish. */
void grey_fp_publish_fork_child(void);

#endif
