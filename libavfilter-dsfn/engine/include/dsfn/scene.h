/*
 * Scene-cut scoring for the dsfn filter: frames across a cut must never be
 * mixed, so the filter ends the window's segment there.
 */
#ifndef DSFN_SCENE_H
#define DSFN_SCENE_H

#include "dsfn/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean absolute difference of two same-sized pictures, in percent of full scale. */
double dsfn_picture_difference(const DSFNImage *a, const DSFNImage *b);

typedef struct DSFNSceneDetector {
    double prev_difference; /* the previous pair's difference */
} DSFNSceneDetector;

/*
 * Scene-change score of cur against prev, 0..100, as FFmpeg's framerate filter
 * computes it: the picture difference, less what the previous pair already
 * differed (steady motion scores low, a sudden change high).
 */
double dsfn_scene_score(DSFNSceneDetector *d, const DSFNImage *prev, const DSFNImage *cur);

#ifdef __cplusplus
}
#endif

#endif /* DSFN_SCENE_H */
