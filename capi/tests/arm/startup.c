/* Reset for the C test on a Cortex-M4F under qemu: the vector table, the FPU turned on, then
 * newlib's _start (rdimon.specs: semihosting stdio and exit), which runs main. */

#include <stdint.h>

extern void _start(void);
extern void _exit(int status);
extern char __stack[];

void reset(void);

/* Enables CP10 and CP11 (the FPU) before any floating-point instruction, then starts C. */
void reset(void) {
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb");
    _start();
    for (;;) {
    }
}

/* Any fault ends the run with exit code 3. */
static void fault(void) {
    _exit(3);
}

__attribute__((section(".vectors"), used)) static void *const vectors[16] = {
    __stack, (void *)reset, (void *)fault, (void *)fault, (void *)fault, (void *)fault,
    (void *)fault, 0, 0, 0, 0, (void *)fault, (void *)fault, 0, (void *)fault, (void *)fault,
};
