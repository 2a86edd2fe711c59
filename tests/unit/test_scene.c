/* Scene-cut scoring: steady motion scores low, a sudden change high. */
#include <string.h>

#include "dsfn/scene.h"
#include "tests.h"

enum { W = 16, H = 8 };

static void fill(uint8_t planes[3][W * H], DSFNImage *img, int shift, int flat)
{
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                planes[p][y * W + x] = flat ? (uint8_t)flat : (uint8_t)(((x + shift) * 16 + y * 8 + p * 50) & 255);
    memset(img, 0, sizeof(*img));
    for (int p = 0; p < 3; p++) {
        img->data[p]     = planes[p];
        img->linesize[p] = W;
    }
    img->width  = W;
    img->height = H;
    img->layout = DSFN_LAYOUT_GBRP;
}

START_TEST(test_difference)
{
    uint8_t a[3][W * H], b[3][W * H];
    DSFNImage ia, ib;

    fill(a, &ia, 0, 0);
    ck_assert(dsfn_picture_difference(&ia, &ia) == 0.0);
    fill(a, &ia, 0, 10);
    fill(b, &ib, 0, 61);
    ck_assert(dsfn_picture_difference(&ia, &ib) > 19.9 && dsfn_picture_difference(&ia, &ib) < 20.1);
    ib.width = W - 1; /* different sizes always differ completely */
    ck_assert(dsfn_picture_difference(&ia, &ib) == 100.0);
}
END_TEST

START_TEST(test_cut_scores_above_motion)
{
    uint8_t f[4][3][W * H];
    DSFNImage img[4];
    DSFNSceneDetector d = { 0 };
    double motion1, motion2, cut;

    fill(f[0], &img[0], 0, 0);
    fill(f[1], &img[1], 1, 0);
    fill(f[2], &img[2], 2, 0);
    fill(f[3], &img[3], 0, 200); /* another scene */
    motion1 = dsfn_scene_score(&d, &img[0], &img[1]);
    motion2 = dsfn_scene_score(&d, &img[1], &img[2]);
    cut     = dsfn_scene_score(&d, &img[2], &img[3]);
    ck_assert_msg(motion2 < 1.0, "steady motion scored %g", motion2);
    ck_assert_msg(cut > 8.2, "cut scored %g (motion %g)", cut, motion1);
}
END_TEST

Suite *scene_suite(void)
{
    Suite *s = suite_create("scene");
    TCase *tc = tcase_create("score");

    tcase_add_test(tc, test_difference);
    tcase_add_test(tc, test_cut_scores_above_motion);
    suite_add_tcase(s, tc);
    return s;
}
