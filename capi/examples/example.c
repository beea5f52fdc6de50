/* The smallest use of focal-loss from C: a sigmoid step and a softmax step. Exits 0 when both
 * calls succeed. Built by Makefile and by CMakeLists.txt beside it. */

#include <stdio.h>

#include "focal_loss.h"

int main(void) {
    /* Binary: RetinaNet's gamma 2, alpha 0.25; gradient of the mean loss. */
    const float logits[4] = {2.5f, -0.3f, -6.0f, 0.8f};
    const uint8_t labels[4] = {1, 0, 0, 1};
    float grad[4], loss;
    fl_sigmoid_config sigmoid = fl_sigmoid_config_default();
    fl_error error;
    fl_status status = fl_sigmoid_loss_and_grad_u8(&sigmoid, logits, 4, labels, 4,
                                                   fl_reduction_mean(), grad, 4, &loss, &error);
    if (status != FL_OK) {
        printf("sigmoid: %s\n", fl_status_str(status));
        return 1;
    }
    printf("sigmoid loss %g, grad[0] %g\n", loss, grad[0]);

    /* Multi-class: 2 samples of 3 classes, per-class alpha, the second sample ignored. */
    {
        const float scores[6] = {2.0f, 0.1f, -1.0f, 0.3f, 0.2f, 4.0f};
        const float alpha[3] = {0.25f, 0.5f, 1.0f};
        const int32_t classes[2] = {0, -100};
        float g[6];
        fl_softmax_config softmax = fl_softmax_config_default(3);
        softmax.alpha = alpha;
        softmax.use_ignore_index = 1;
        softmax.ignore_index = -100;
        status = fl_softmax_loss_and_grad(&softmax, scores, 6, classes, 2, fl_reduction_mean(), g,
                                          6, &loss, &error);
        if (status != FL_OK) {
            printf("softmax: %s (operand %u, index %lu)\n", fl_status_str(status),
                   (unsigned)error.operand, (unsigned long)error.index);
            return 1;
        }
        printf("softmax loss %g, grad[0] %g\n", loss, g[0]);
    }
    return 0;
}
