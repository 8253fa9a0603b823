/* The fairness heat map as a self-contained SVG (no script, no external reference): one row per
 * process and GPU, one column per time bin, each cell coloured by the device share the process
 * got against the share it was entitled to (blue: under, white: as entitled, red: over; grey: not
 * active), with a <title> per cell giving both figures, axis labels and a legend. */
#ifndef GREY_HEATMAP_SVG_H
#define GREY_HEATMAP_SVG_H

#include <stdio.h>

struct heatmap {
    unsigned nrows, ncols;
    double bin_s;              /* seconds per column */
    const char *const *labels; /* nrows row labels (plain text; escaped here) */
    const double *measured;    /* nrows * ncols, row-major: device share got, 0..1 */
    const double *entitled;    /* the same: share entitled to, 0..1; 0: not active in that bin */
};

/* Writes h to f. Returns 0, or -1 when f reports a write error. */
int heatmap_svg_write(FILE *f, const struct heatmap *h, const char *title);

#endif
