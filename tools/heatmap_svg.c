/* The fairness heat map's SVG (heatmap_svg.h). */
#include "heatmap_svg.h"

#include <string.h>

#define CELL_W 14
#define CELL_H 22
#define LABEL_W 280
#define TOP 56
#define LEGEND_H 60

/* Text in an SVG element or attribute. */
static void put_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
                fputc(*s, f);
            else
                fputc('?', f);
        }
    }
}

/* got / entitled on a diverging scale: 0 deep blue, 1 white, 2 or more deep red. */
static void colour(double ratio, int rgb[3])
{
    static const int blue[3] = {49, 54, 149}, white[3] = {247, 247, 247}, red[3] = {165, 0, 38};
    double x = ratio < 0 ? 0 : ratio > 2 ? 2 : ratio;
    const int *a = x < 1 ? blue : white, *b = x < 1 ? white : red;
    double t = x < 1 ? x : x - 1;
    for (int i = 0; i < 3; i++)
        rgb[i] = (int)(a[i] + (b[i] - a[i]) * t + 0.5); /* no libm in the tools */
}

int heatmap_svg_write(FILE *f, const struct heatmap *h, const char *title)
{
    unsigned cols = h->ncols ? h->ncols : 1;
    /* At least wide enough for the subtitle and the legend. */
    if (LABEL_W + (int)cols * CELL_W + 40 < 520)
        cols = (520 - 40 - LABEL_W) / CELL_W + 1;
    int width = LABEL_W + (int)cols * CELL_W + 40, height = TOP + (int)h->nrows * CELL_H + 40 + LEGEND_H;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<text x=\"10\" y=\"22\" font-size=\"15\" "
               "font-weight=\"bold\">", width, height);
    put_text(f, title);
    fprintf(f, "</text>\n<text x=\"10\" y=\"42\" fill=\"#444444\">device share got against entitlement, per "
               "process and %.0f s bin</text>\n", h->bin_s);
    for (unsigned r = 0; r < h->nrows; r++) {
        int y = TOP + (int)r * CELL_H;
        fprintf(f, "<text x=\"10\" y=\"%d\">", y + CELL_H - 7);
        put_text(f, h->labels[r]);
        fputs("</text>\n", f);
        for (unsigned c = 0; c < h->ncols; c++) {
            double got = h->measured[r * h->ncols + c], want = h->entitled[r * h->ncols + c];
            int rgb[3] = {204, 204, 204};
            if (want > 0)
                colour(got / want, rgb);
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\" stroke=\"#ffffff\">"
                       "<title>t=%.0f s: got %.1f%%, entitled %.1f%%</title></rect>\n",
                    LABEL_W + (int)c * CELL_W, y, CELL_W, CELL_H, rgb[0], rgb[1], rgb[2], c * h->bin_s, got * 100,
                    want * 100);
        }
    }
    int axis = TOP + (int)h->nrows * CELL_H + 16;
    for (unsigned c = 0; c < h->ncols; c += 10)
        fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#444444\">%.0fs</text>\n", LABEL_W + (int)c * CELL_W, axis,
                c * h->bin_s);
    int ly = axis + 20;
    fprintf(f, "<text x=\"10\" y=\"%d\">got / entitled:</text>\n", ly + 14);
    for (int i = 0; i <= 20; i++) {
        int rgb[3];
        colour(i / 10.0, rgb);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"18\" fill=\"#%02x%02x%02x\"/>\n", 120 + i * 12, ly,
                rgb[0], rgb[1], rgb[2]);
    }
    fprintf(f, "<text x=\"120\" y=\"%d\">0</text><text x=\"234\" y=\"%d\">1</text><text x=\"354\" y=\"%d\">2+</text>\n"
               "<rect x=\"400\" y=\"%d\" width=\"12\" height=\"18\" fill=\"#cccccc\"/><text x=\"418\" y=\"%d\">not "
               "active</text>\n</svg>\n",
            ly + 32, ly + 32, ly + 32, ly, ly + 14);
    return ferror(f) ? -1 : 0;
}
