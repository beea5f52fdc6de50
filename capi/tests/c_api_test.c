/*
 * The C API's test, run by `cargo xtask test` on the host and on a Cortex-M4F under
 * qemu-system-arm (semihosting): C99, no allocation, exits 0 when everything passed.
 *
 * 1. Every committed reference vector (tests/data/sigmoid_reference.csv and
 *    softmax_reference.csv, the ones the Rust tests check) through both forms and both kernels, by the rule and within the bounds of the Rust tests
 *    (testkit/src/vectors.rs, testkit/src/ulp.rs); the vectors and bounds come from
 *    vectors.h, which the xtask generates from the CSV files with testkit's parsers.
 * 2. The digest workload of testkit/src/digest.rs, ported to C, against the committed
 *    tests/data/forms_digest.txt (the two forms' part of the digest workload, which
 *    tests/determinism.rs checks at every dispatch level): the same bits from C.
 * 3. Every status code with a bad input, NULL pointers included.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "focal_loss.h"
#include "vectors.h"

static unsigned failures;

/* Records a failed check and prints it (the first 20 in full). */
static void fail(const char *what, long index) {
    if (failures < 20) {
        printf("FAIL %s (%ld)\n", what, index);
    }
    failures++;
}

#define CHECK(cond, what, index) \
    do {                         \
        if (!(cond)) {           \
            fail(what, index);   \
        }                        \
    } while (0)

static float f32_of(uint32_t bits) {
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static double f64_of(uint64_t bits) {
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static uint32_t bits_of(float v) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* ---- The accuracy rule of testkit/src/ulp.rs ---- */

#define MIN_NORMAL 1.1754943508222875e-38 /* FLT_MIN as a double */
#define F32_MAX 3.4028234663852886e+38

/* The f32 ULP at a normal magnitude w: 2^(floor(log2 w) - 23), from the exponent bits. */
static double ulp_at(double w) {
    uint64_t bits;
    int64_t exponent;
    memcpy(&bits, &w, sizeof bits);
    exponent = (int64_t)((bits >> 52) & 0x7ff) - 1023;
    return f64_of((uint64_t)(exponent - 23 + 1023) << 52);
}

/* Sets *ulps to the distance in ULP at `scale`; 0 where `scale` is not a normal f32. */
static int ulps_of(float got, double want, double scale, double *ulps) {
    if (!(scale >= MIN_NORMAL && scale <= F32_MAX)) {
        return 0;
    }
    *ulps = fabs((double)got - want) / ulp_at(scale);
    return 1;
}

/* testkit::ulp::check: within `bound` ULP at `scale` (or at |want|), else exact infinities
 * and tiny values within half the smallest normal. Updates *worst. */
static int within(float got, double want, double scale, double bound, double *worst) {
    double e;
    if (ulps_of(got, want, scale, &e) || ulps_of(got, want, fabs(want), &e)) {
        if (e <= bound) {
            if (e > *worst) {
                *worst = e;
            }
            return 1;
        }
        return 0;
    }
    if (isinf(want)) {
        return (double)got == want;
    }
    return fabs((double)got - want) <= MIN_NORMAL / 2.0;
}

/* ---- 1. Reference vectors ---- */

static const char *kernel_name(fl_kernel k) {
    return k == FL_KERNEL_SIMD ? "Simd" : "Libm";
}

static void sigmoid_vectors(fl_kernel kernel) {
    size_t i;
    unsigned before = failures;
    double worst_loss = 0.0, worst_grad = 0.0;
    for (i = 0; i < SIGMOID_VECTORS; i++) {
        const struct sigmoid_vector *v = &SIGMOID[i];
        fl_sigmoid_config config = fl_sigmoid_config_default();
        float x = f32_of(v->logit), t = f32_of(v->target), loss = 0.0f, grad = 0.0f, sum = 0.0f;
        fl_status a, b;
        config.gamma = f32_of(v->gamma);
        config.alpha = f32_of(v->alpha);
        config.use_alpha = v->has_alpha;
        config.kernel = kernel;
        a = fl_sigmoid_loss_per_element(&config, &x, 1, &t, 1, &loss, 1, NULL);
        b = fl_sigmoid_loss_and_grad(&config, &x, 1, &t, 1, fl_reduction_sum(), &grad, 1, &sum,
                                     NULL);
        CHECK(a == FL_OK && b == FL_OK, "sigmoid vector rejected", (long)i);
        CHECK(within(loss, f64_of(v->loss), fabs(f64_of(v->loss)), SIGMOID_BOUND, &worst_loss),
              "sigmoid loss", (long)i);
        CHECK(within(grad, f64_of(v->grad), f64_of(v->grad_scale), SIGMOID_BOUND, &worst_grad),
              "sigmoid grad", (long)i);
        CHECK(bits_of(sum) == bits_of(loss), "sigmoid sum of one loss", (long)i);
        if (t == 0.0f || t == 1.0f) {
            /* The uint8_t twin gives the same bits. */
            uint8_t label = (uint8_t)t;
            float loss8 = 0.0f, grad8 = 0.0f, sum8 = 0.0f;
            a = fl_sigmoid_loss_per_element_u8(&config, &x, 1, &label, 1, &loss8, 1, NULL);
            b = fl_sigmoid_loss_and_grad_u8(&config, &x, 1, &label, 1, fl_reduction_sum(), &grad8,
                                            1, &sum8, NULL);
            CHECK(a == FL_OK && b == FL_OK, "sigmoid u8 vector rejected", (long)i);
            CHECK(bits_of(loss8) == bits_of(loss) && bits_of(grad8) == bits_of(grad),
                  "sigmoid u8 twin", (long)i);
        }
    }
    printf("sigmoid %s: %u vectors, worst loss %.2f ULP, worst grad %.2f ULP: %s\n",
           kernel_name(kernel), (unsigned)SIGMOID_VECTORS, worst_loss, worst_grad,
           failures == before ? "ok" : "FAILED");
}

static void softmax_vectors(fl_kernel kernel) {
    size_t i, j;
    unsigned before = failures;
    double worst_loss = 0.0, worst_grad = 0.0;
    static float logits[SOFTMAX_MAX_CLASSES], soft[SOFTMAX_MAX_CLASSES],
        alpha[SOFTMAX_MAX_CLASSES], grad[SOFTMAX_MAX_CLASSES];
    for (i = 0; i < SOFTMAX_VECTORS; i++) {
        const struct softmax_vector *v = &SOFTMAX[i];
        size_t c = v->classes;
        fl_softmax_config config = fl_softmax_config_default(c);
        fl_status status;
        float loss = 0.0f;
        double largest = 0.0, bound = v->bound;
        for (j = 0; j < c; j++) {
            logits[j] = f32_of(F32_DATA[v->logits + j]);
            alpha[j] = v->has_alpha ? f32_of(F32_DATA[v->alpha + j]) : 1.0f;
            soft[j] = v->target < 0 ? f32_of(F32_DATA[v->soft + j]) : 0.0f;
            if (fabs(f64_of(F64_DATA[v->grad + j])) > largest) {
                largest = fabs(f64_of(F64_DATA[v->grad + j]));
            }
        }
        config.gamma = f32_of(v->gamma);
        config.alpha = v->has_alpha ? alpha : NULL;
        config.kernel = kernel;
        if (v->target < 0) {
            status = fl_softmax_loss_and_grad_soft(&config, logits, c, soft, c, fl_reduction_sum(),
                                                   grad, c, &loss, NULL);
        } else if (i % 3 == 1 && v->target < 65536) {
            uint16_t t = (uint16_t)v->target;
            status = fl_softmax_loss_and_grad_u16(&config, logits, c, &t, 1, fl_reduction_sum(),
                                                  grad, c, &loss, NULL);
        } else if (i % 3 == 2 && v->target < 256) {
            uint8_t t = (uint8_t)v->target;
            status = fl_softmax_loss_and_grad_u8(&config, logits, c, &t, 1, fl_reduction_sum(),
                                                 grad, c, &loss, NULL);
        } else {
            int32_t t = (int32_t)v->target;
            status = fl_softmax_loss_and_grad(&config, logits, c, &t, 1, fl_reduction_sum(), grad,
                                              c, &loss, NULL);
        }
        CHECK(status == FL_OK, "softmax vector rejected", (long)i);
        CHECK(within(loss, f64_of(v->loss), fabs(f64_of(v->loss)), bound, &worst_loss),
              "softmax loss", (long)i);
        for (j = 0; j < c; j++) {
            double want = f64_of(F64_DATA[v->grad + j]);
            /* A soft target's gradient is a difference of terms: measured at the largest. */
            double scale = v->target < 0 ? largest : fabs(want);
            CHECK(within(grad[j], want, scale, bound, &worst_grad), "softmax grad", (long)i);
        }
    }
    printf("softmax %s: %u vectors, worst loss %.2f ULP, worst grad %.2f ULP: %s\n",
           kernel_name(kernel), (unsigned)SOFTMAX_VECTORS, worst_loss, worst_grad,
           failures == before ? "ok" : "FAILED");
}

/* ---- 2. The digest workload of testkit/src/digest.rs ---- */

#define MAX_N 370

static uint32_t rng_state;

/* focal_loss::train::Rng: xorshift32, 0 replaced by a fixed state. */
static void rng_seed(uint32_t seed) {
    rng_state = seed == 0 ? 0x9e3779b9u : seed;
}

static uint32_t rng_next(void) {
    uint32_t s = rng_state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    rng_state = s;
    return s;
}

static void workload(float *x, float *t, size_t n, uint32_t seed) {
    static const float specials[4] = {INFINITY, -INFINITY, 0.0f, -0.0f};
    size_t i;
    rng_seed(seed);
    for (i = 0; i < n; i++) {
        x[i] = (float)(rng_next() % 200001u) / 1000.0f - 100.0f;
    }
    for (i = 0; i < n; i += 97) {
        x[i] = specials[i % 4];
    }
    for (i = 0; i < n; i++) {
        switch (rng_next() % 10u) {
        case 0:
            t[i] = 1.0f;
            break;
        case 1:
            t[i] = (float)(rng_next() % 1001u) / 1000.0f;
            break;
        default:
            t[i] = 0.0f;
        }
    }
}

static uint64_t fnv;

static void eat(float v) {
    uint32_t b = bits_of(v);
    int k;
    for (k = 0; k < 4; k++) {
        fnv = (fnv ^ (uint64_t)((b >> (8 * k)) & 0xffu)) * 0x00000100000001b3ull;
    }
}

static void eat_all(const float *v, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        eat(v[i]);
    }
}

/* Calls that must succeed in the digest workload. */
#define MUST(call) CHECK((call) == FL_OK, #call, __LINE__)

static uint64_t digest(void) {
    static const float gammas[7] = {0.0f, 0.5f, 1.0f, 2.0f, 2.5f, 3.0f, 5.0f};
    static const size_t sizes[4] = {1, 8, 13, 300};
    static float xb[MAX_N], tb[MAX_N], out[MAX_N], soft_rm[MAX_N], soft_cf[MAX_N];
    static const size_t shapes[3][2] = {{3, 37}, {10, 37}, {37, 10}};
    float alpha[37], loss;
    uint16_t all_targets[37];
    size_t s, g, a, i;
    int v;
    fnv = 0xcbf29ce484222325ull;
    for (s = 0; s < 4; s++) {
        size_t n = sizes[s];
        workload(xb, tb, n, (uint32_t)(n * 31 + 1));
        for (g = 0; g < 7; g++) {
            for (a = 0; a < 2; a++) {
                fl_sigmoid_config config = fl_sigmoid_config_default();
                config.gamma = gammas[g];
                config.use_alpha = (uint8_t)a;
                MUST(fl_sigmoid_loss_per_element(&config, xb, n, tb, n, out, n, NULL));
                eat_all(out, n);
                MUST(fl_sigmoid_loss_and_grad(&config, xb, n, tb, n, fl_reduction_mean(), out, n,
                                              &loss, NULL));
                eat(loss);
                eat_all(out, n);
            }
        }
    }
    {
        /* Subnormal losses, gradients and partial sums. */
        fl_sigmoid_config config = fl_sigmoid_config_default();
        config.gamma = 0.0f;
        config.use_alpha = 0;
        for (i = 0; i < 16; i++) {
            xb[i] = 89.0f + (float)i * 0.125f;
            tb[i] = 1.0f;
        }
        MUST(fl_sigmoid_loss_per_element(&config, xb, 16, tb, 16, out, 16, NULL));
        for (i = 0; i < 16; i++) {
            CHECK(out[i] > 0.0f && out[i] < 1.17549435e-38f, "subnormal loss", (long)i);
        }
        eat_all(out, 16);
        MUST(fl_sigmoid_loss_and_grad(&config, xb, 16, tb, 16, fl_reduction_sum(), out, 16, &loss,
                                      NULL));
        eat(loss);
        eat_all(out, 16);
    }
    for (v = -2000; v <= 2000; v++) {
        float x = (float)v * 0.05123f;
        eat(fl_approx_exp(x));
        eat(fl_approx_ln(fabsf(x)));
    }
    for (s = 0; s < 3; s++) {
        size_t c = shapes[s][0], rows = shapes[s][1], n = c * rows;
        static const float gs[3] = {0.0f, 2.0f, 2.5f};
        workload(xb, tb, n, (uint32_t)c);
        for (i = 0; i < n; i++) {
            xb[i] *= 0.3f;
        }
        for (i = 0; i < 37; i++) {
            all_targets[i] = (uint16_t)(i * 7 % c);
            alpha[i] = 0.5f + (float)i * 0.1f;
        }
        for (i = 0; i < n; i++) {
            soft_rm[i] = i % c == i / c % c ? 0.9f : 0.1f / (float)(c - 1);
        }
        for (i = 0; i < n; i++) {
            soft_cf[i] = soft_rm[(i % rows) * c + i / rows];
        }
        for (g = 0; g < 3; g++) {
            int layout;
            for (layout = 0; layout < 2; layout++) {
                fl_softmax_config config = fl_softmax_config_default(c);
                const float *soft = layout ? soft_cf : soft_rm;
                config.gamma = gs[g];
                config.alpha = alpha;
                if (layout) {
                    config.layout = FL_LAYOUT_CHANNELS_FIRST;
                    config.spatial = rows;
                }
                MUST(fl_softmax_loss_and_grad_u16(&config, xb, n, all_targets, rows,
                                                  fl_reduction_mean(), out, n, &loss, NULL));
                eat(loss);
                eat_all(out, n);
                MUST(fl_softmax_loss_and_grad_soft(&config, xb, n, soft, n, fl_reduction_sum(), out,
                                                   n, &loss, NULL));
                eat(loss);
                eat_all(out, n);
            }
        }
    }
    return fnv;
}

/* The kernel field is honoured: on the digest workload the two kernels agree closely but not
 * in every bit. */
static void kernels_differ(void) {
    static float x[MAX_N], t[MAX_N], simd[MAX_N], libm[MAX_N];
    fl_sigmoid_config config = fl_sigmoid_config_default();
    size_t i, differ = 0;
    workload(x, t, MAX_N, 5);
    MUST(fl_sigmoid_loss_per_element(&config, x, MAX_N, t, MAX_N, simd, MAX_N, NULL));
    config.kernel = FL_KERNEL_LIBM;
    MUST(fl_sigmoid_loss_per_element(&config, x, MAX_N, t, MAX_N, libm, MAX_N, NULL));
    for (i = 0; i < MAX_N; i++) {
        differ += bits_of(simd[i]) != bits_of(libm[i]);
        CHECK(fabsf(simd[i] - libm[i]) <= 1e-5f * fabsf(libm[i]) || simd[i] == libm[i],
              "kernels agree", (long)i);
    }
    CHECK(differ > 0, "the kernels differ in some bit", 0);
    printf("kernels: %lu of %d losses differ in some bit: %s\n", (unsigned long)differ, MAX_N,
           differ > 0 ? "ok" : "FAILED");
}

/* ---- 3. Every status code ---- */

/* Checks a call's status and the details it wrote. */
static void expect(fl_status got, const fl_error *e, fl_status want, fl_operand operand,
                   const char *what) {
    CHECK(got == want, what, (long)got);
    CHECK(e->status == want, what, (long)e->status);
    CHECK(e->operand == operand, what, (long)e->operand);
}

static void errors(void) {
    const float x[4] = {0.5f, -1.0f, 2.0f, 0.0f}, t[4] = {1.0f, 0.0f, 1.0f, 0.0f};
    const float w[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    const uint8_t t8[4] = {1, 0, 1, 0};
    float grad[4], out[4], loss = -1.0f;
    fl_error e;
    fl_status st;
    fl_sigmoid_config sc = fl_sigmoid_config_default();
    fl_softmax_config mc = fl_softmax_config_default(2);
    int32_t classes[2] = {0, 1};
    fl_status code;

    /* Success writes FL_OK details; a NULL error pointer is allowed. */
    memset(&e, 0xff, sizeof e);
    st = fl_sigmoid_loss(&sc, x, 4, t, 4, fl_reduction_mean(), &loss, &e);
    expect(st, &e, FL_OK, FL_OPERAND_NONE, "success");
    CHECK(e.index == 0 && e.expected == 0 && e.found == 0 && loss > 0.0f, "success details", 0);
    CHECK(fl_sigmoid_loss(&sc, x, 4, t, 4, fl_reduction_mean(), &loss, NULL) == FL_OK,
          "NULL error pointer", 0);

    sc.gamma = -1.0f;
    st = fl_sigmoid_loss(&sc, x, 4, t, 4, fl_reduction_mean(), &loss, &e);
    expect(st, &e, FL_INVALID_GAMMA, FL_OPERAND_CONFIG, "FL_INVALID_GAMMA");
    CHECK(e.value == -1.0f, "FL_INVALID_GAMMA value", 0);
    sc = fl_sigmoid_config_default();

    sc.alpha = 1.5f;
    st = fl_sigmoid_loss_u8(&sc, x, 4, t8, 4, fl_reduction_mean(), &loss, &e);
    expect(st, &e, FL_INVALID_ALPHA, FL_OPERAND_CONFIG, "FL_INVALID_ALPHA");
    CHECK(e.value == 1.5f, "FL_INVALID_ALPHA value", 0);
    sc.use_alpha = 0; /* alpha is not used: no error */
    CHECK(fl_sigmoid_loss_u8(&sc, x, 4, t8, 4, fl_reduction_mean(), &loss, &e) == FL_OK,
          "unused alpha", 0);
    sc = fl_sigmoid_config_default();

    st = fl_sigmoid_loss_and_grad(&sc, x, 4, t, 4, fl_reduction_mean(), grad, 3, &loss, &e);
    expect(st, &e, FL_LENGTH_MISMATCH, FL_OPERAND_GRAD, "FL_LENGTH_MISMATCH");
    CHECK(e.expected == 4 && e.found == 3, "FL_LENGTH_MISMATCH lengths", 0);
    st = fl_sigmoid_loss(&sc, x, 4, t, 2, fl_reduction_mean(), &loss, &e);
    expect(st, &e, FL_LENGTH_MISMATCH, FL_OPERAND_TARGETS, "FL_LENGTH_MISMATCH targets");

    {
        const float bad[4] = {1.0f, 0.0f, 2.0f, 0.0f};
        const uint8_t bad8[4] = {1, 0, 0, 7};
        st = fl_sigmoid_loss_per_element(&sc, x, 4, bad, 4, out, 4, &e);
        expect(st, &e, FL_INVALID_TARGET, FL_OPERAND_TARGETS, "FL_INVALID_TARGET");
        CHECK(e.index == 2 && e.value == 2.0f, "FL_INVALID_TARGET details", 0);
        st = fl_sigmoid_loss_per_element_u8(&sc, x, 4, bad8, 4, out, 4, &e);
        expect(st, &e, FL_INVALID_TARGET, FL_OPERAND_TARGETS, "FL_INVALID_TARGET u8");
        CHECK(e.index == 3 && e.value == 7.0f, "FL_INVALID_TARGET u8 details", 0);
    }
    {
        const float bad[4] = {1.0f, -1.0f, 1.0f, 1.0f};
        st = fl_sigmoid_loss_weighted(&sc, x, 4, t, 4, bad, 4, fl_reduction_sum(), &loss, &e);
        expect(st, &e, FL_INVALID_WEIGHT, FL_OPERAND_WEIGHTS, "FL_INVALID_WEIGHT");
        CHECK(e.index == 1 && e.value == -1.0f, "FL_INVALID_WEIGHT details", 0);
        st = fl_sigmoid_loss_and_grad_weighted_u8(&sc, x, 4, t8, 4, w, 3, fl_reduction_sum(), grad,
                                                  4, &loss, &e);
        expect(st, &e, FL_LENGTH_MISMATCH, FL_OPERAND_WEIGHTS, "weights length");
    }

    st = fl_sigmoid_loss(&sc, x, 4, t, 4, fl_reduction_mean_over(0.0f), &loss, &e);
    expect(st, &e, FL_INVALID_NORMALIZER, FL_OPERAND_REDUCTION, "FL_INVALID_NORMALIZER");

    {
        const float nan_x[4] = {0.0f, 1.0f, NAN, 2.0f};
        st = fl_sigmoid_loss_and_grad(&sc, nan_x, 4, t, 4, fl_reduction_sum(), grad, 4, &loss, &e);
        expect(st, &e, FL_NON_FINITE_LOGIT, FL_OPERAND_LOGITS, "FL_NON_FINITE_LOGIT");
        CHECK(e.index == 2 && isnan(e.value), "FL_NON_FINITE_LOGIT index", 0);
        st = fl_softmax_loss(&mc, nan_x, 4, classes, 2, fl_reduction_sum(), &loss, &e);
        expect(st, &e, FL_NON_FINITE_LOGIT, FL_OPERAND_LOGITS, "softmax FL_NON_FINITE_LOGIT");
    }

    mc.num_classes = 0;
    st = fl_softmax_loss(&mc, x, 4, classes, 2, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_INVALID_NUM_CLASSES, FL_OPERAND_CONFIG, "FL_INVALID_NUM_CLASSES");
    mc.num_classes = ((size_t)1 << 24) + 1;
    st = fl_softmax_loss(&mc, x, 4, classes, 2, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_INVALID_NUM_CLASSES, FL_OPERAND_CONFIG, "FL_INVALID_NUM_CLASSES big");
    CHECK(e.int_value == (1 << 24) + 1, "FL_INVALID_NUM_CLASSES value", 0);
    mc = fl_softmax_config_default(2);

    mc.layout = FL_LAYOUT_CHANNELS_FIRST;
    mc.spatial = 0;
    st = fl_softmax_loss_u8(&mc, x, 4, t8, 2, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_INVALID_SPATIAL, FL_OPERAND_CONFIG, "FL_INVALID_SPATIAL");
    mc.spatial = 2; /* 1 image of 2 classes x 2 pixels */
    st = fl_softmax_loss_u8(&mc, x, 4, t8, 2, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_OK, FL_OPERAND_NONE, "channels-first");
    mc = fl_softmax_config_default(2);

    st = fl_softmax_loss(&mc, x, 3, classes, 1, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_LOGITS_SHAPE, FL_OPERAND_LOGITS, "FL_LOGITS_SHAPE");
    CHECK(e.found == 3 && e.expected == 2, "FL_LOGITS_SHAPE details", 0);

    {
        int32_t bad[2] = {1, -100};
        uint16_t bad16[2] = {0, 2};
        st = fl_softmax_loss_per_element(&mc, x, 4, bad, 2, out, 2, &e);
        expect(st, &e, FL_CLASS_OUT_OF_RANGE, FL_OPERAND_TARGETS, "FL_CLASS_OUT_OF_RANGE");
        CHECK(e.index == 1 && e.int_value == -100 && e.expected == 2, "class details", 0);
        mc.use_ignore_index = 1; /* -100 is ignored now */
        st = fl_softmax_loss_per_element(&mc, x, 4, bad, 2, out, 2, &e);
        CHECK(st == FL_OK && out[1] == 0.0f && out[0] > 0.0f, "ignore index", 0);
        st = fl_softmax_loss_per_element_u16(&mc, x, 4, bad16, 2, out, 2, &e);
        expect(st, &e, FL_CLASS_OUT_OF_RANGE, FL_OPERAND_TARGETS, "u16 class");
        CHECK(e.index == 1 && e.int_value == 2, "u16 class details", 0);
        mc = fl_softmax_config_default(2);
    }

    {
        const float bad_alpha[2] = {1.0f, -0.5f};
        mc.alpha = bad_alpha;
        st = fl_softmax_loss(&mc, x, 4, classes, 2, fl_reduction_sum(), &loss, &e);
        expect(st, &e, FL_INVALID_CLASS_ALPHA, FL_OPERAND_ALPHA, "FL_INVALID_CLASS_ALPHA");
        CHECK(e.index == 1 && e.value == -0.5f, "FL_INVALID_CLASS_ALPHA details", 0);
        mc = fl_softmax_config_default(2);
    }

    {
        const float bad_soft[4] = {0.5f, 0.5f, 0.25f, 0.25f};
        st = fl_softmax_loss_soft(&mc, x, 4, bad_soft, 4, fl_reduction_sum(), &loss, &e);
        expect(st, &e, FL_TARGET_ROW_SUM, FL_OPERAND_TARGETS, "FL_TARGET_ROW_SUM");
        CHECK(e.index == 1 && e.value == 0.5f, "FL_TARGET_ROW_SUM details", 0);
        st = fl_softmax_loss_per_element_soft(&mc, x, 4, bad_soft, 4, out, 2, &e);
        expect(st, &e, FL_TARGET_ROW_SUM, FL_OPERAND_TARGETS, "per-element FL_TARGET_ROW_SUM");
    }

    /* NULL pointers: an error with a length, an empty buffer without. */
    st = fl_sigmoid_loss(NULL, x, 4, t, 4, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_CONFIG, "NULL config");
    st = fl_softmax_loss(NULL, x, 4, classes, 2, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_CONFIG, "NULL softmax config");
    st = fl_sigmoid_loss(&sc, NULL, 4, t, 4, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_LOGITS, "NULL logits");
    st = fl_sigmoid_loss_weighted(&sc, x, 4, t, 4, NULL, 4, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_WEIGHTS, "NULL weights");
    st = fl_sigmoid_loss_per_element(&sc, x, 4, t, 4, NULL, 4, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_OUT, "NULL out");
    st = fl_softmax_loss_and_grad(&mc, x, 4, NULL, 2, fl_reduction_sum(), grad, 4, &loss, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_TARGETS, "NULL targets");
    st = fl_softmax_loss_and_grad(&mc, x, 4, classes, 2, fl_reduction_sum(), NULL, 4, &loss, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_GRAD, "NULL grad");
    st = fl_sigmoid_loss_and_grad(&sc, x, 4, t, 4, fl_reduction_sum(), grad, 4, NULL, &e);
    expect(st, &e, FL_NULL_POINTER, FL_OPERAND_LOSS, "NULL loss");
    loss = -1.0f;
    st = fl_sigmoid_loss_and_grad(&sc, NULL, 0, NULL, 0, fl_reduction_mean(), NULL, 0, &loss, &e);
    expect(st, &e, FL_OK, FL_OPERAND_NONE, "NULL empty buffers");
    CHECK(loss == 0.0f, "empty mean is 0", 0);
    st = fl_softmax_loss_soft(&mc, NULL, 0, NULL, 0, fl_reduction_mean(), &loss, &e);
    expect(st, &e, FL_OK, FL_OPERAND_NONE, "NULL empty softmax buffers");

    /* Options that are none of their constants. */
    sc.kernel = 7;
    st = fl_sigmoid_loss(&sc, x, 4, t, 4, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_INVALID_OPTION, FL_OPERAND_CONFIG, "FL_INVALID_OPTION kernel");
    CHECK(e.int_value == 7, "FL_INVALID_OPTION value", 0);
    sc = fl_sigmoid_config_default();
    mc.layout = 9;
    st = fl_softmax_loss(&mc, x, 4, classes, 2, fl_reduction_sum(), &loss, &e);
    expect(st, &e, FL_INVALID_OPTION, FL_OPERAND_CONFIG, "FL_INVALID_OPTION layout");
    mc = fl_softmax_config_default(2);
    {
        fl_reduction r = fl_reduction_sum();
        r.kind = 5;
        st = fl_softmax_loss(&mc, x, 4, classes, 2, r, &loss, &e);
        expect(st, &e, FL_INVALID_OPTION, FL_OPERAND_REDUCTION, "FL_INVALID_OPTION reduction");
    }

    /* An output that overlaps an input. */
    {
        float buf[8] = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f};
        st = fl_sigmoid_loss_and_grad(&sc, buf, 4, buf + 4, 4, fl_reduction_sum(), buf, 4, &loss,
                                      &e);
        expect(st, &e, FL_OVERLAPPING_BUFFERS, FL_OPERAND_GRAD, "FL_OVERLAPPING_BUFFERS");
        st = fl_sigmoid_loss_per_element(&sc, buf, 4, buf + 4, 4, buf + 3, 4, &e);
        expect(st, &e, FL_OVERLAPPING_BUFFERS, FL_OPERAND_OUT, "overlap by one element");
        st = fl_sigmoid_loss_per_element(&sc, buf, 2, buf + 4, 2, buf + 2, 2, &e);
        expect(st, &e, FL_OK, FL_OPERAND_NONE, "adjacent buffers");
    }

    /* Every code has its own message; other values are unknown. */
    for (code = FL_OK; code <= FL_UNKNOWN_ERROR; code++) {
        fl_status other;
        const char *m = fl_status_str(code);
        CHECK(m != NULL && strcmp(m, fl_status_str(-1)) != 0, "fl_status_str", (long)code);
        for (other = FL_OK; other < code; other++) {
            CHECK(strcmp(m, fl_status_str(other)) != 0, "fl_status_str distinct", (long)code);
        }
    }
    CHECK(strcmp(fl_status_str(FL_UNKNOWN_ERROR + 1), "unknown status code") == 0,
          "fl_status_str unknown", 0);
    printf("status codes: %s\n", failures == 0 ? "ok" : "FAILED");
}

int main(void) {
    uint64_t got;
    errors();
    sigmoid_vectors(FL_KERNEL_SIMD);
    sigmoid_vectors(FL_KERNEL_LIBM);
    softmax_vectors(FL_KERNEL_SIMD);
    softmax_vectors(FL_KERNEL_LIBM);
    got = digest();
    kernels_differ();
    printf("Simd digest %08lx%08lx, committed %08lx%08lx: %s\n", (unsigned long)(got >> 32),
           (unsigned long)(got & 0xffffffffu), (unsigned long)(COMMITTED_DIGEST >> 32),
           (unsigned long)(COMMITTED_DIGEST & 0xffffffffu),
           got == COMMITTED_DIGEST ? "same bits" : "MISMATCH");
    CHECK(got == COMMITTED_DIGEST, "digest", 0);
    printf("focal-loss C API test: %s (%u failed checks)\n", failures == 0 ? "PASSED" : "FAILED",
           failures);
    return failures == 0 ? 0 : 1;
}
