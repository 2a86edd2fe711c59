/*
 * Scene-cut scoring (see scene.h).
 */
#include "dsfn/scene.h"

#include <math.h>
#include <stdlib.h>

double dsfn_picture_difference(const DSFNImage *a, const DSFNImage *b)
{
    const int planes = a->layout == DSFN_LAYOUT_RGB24 ? 1 : 3;
    const int row    = a->layout == DSFN_LAYOUT_RGB24 ? 3 * a->width : a->width;
    const int deep   = a->layout == DSFN_LAYOUT_GBRP16;
    uint64_t sad = 0;

    if (a->width != b->width || a->height != b->height || a->layout != b->layout ||
        a->width < 1 || a->height < 1)
        return 100.0;
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < a->height; y++) {
            const uint8_t *pa = a->data[p] + (ptrdiff_t)y * a->linesize[p];
            const uint8_t *pb = b->data[p] + (ptrdiff_t)y * b->linesize[p];
            if (deep) {
                const uint16_t *qa = (const uint16_t *)pa, *qb = (const uint16_t *)pb;
                for (int x = 0; x < row; x++)
                    sad += (uint64_t)abs((int)qa[x] - (int)qb[x]);
            } else {
                for (int x = 0; x < row; x++)
                    sad += (uint64_t)abs(pa[x] - pb[x]);
            }
        }
    return (double)sad * 100.0 / ((double)row * planes * a->height * (deep ? 65535.0 : 255.0));
}

double dsfn_scene_score(DSFNSceneDetector *d, const DSFNImage *prev, const DSFNImage *cur)
{
    const double mafd = dsfn_picture_difference(prev, cur);
    const double diff = fabs(mafd - d->prev_difference);
    const double score = mafd < diff ? mafd : diff;

    d->prev_difference = mafd;
    return score < 0 ? 0 : score > 100 ? 100 : score;
}
