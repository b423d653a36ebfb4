/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kfuncs of the open-coded task walk (kernel >= 6.7).
 *
 * Weak, so that an object whose open-coded walk is not loaded still loads
 * on older kernels; there, calls to the missing kfuncs fail the verifier,
 * and userspace falls back to an iter/task walk. libbpf binds them only if
 * our prototypes match the kernel's, which needs the full definition of
 * struct task_struct in the object (a bare forward declaration is not
 * enough).
 */
#ifndef BPFTOP_TASK_KFUNCS_H
#define BPFTOP_TASK_KFUNCS_H

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
			     unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_rcu_read_lock(void) __weak __ksym;
extern void bpf_rcu_read_unlock(void) __weak __ksym;

#endif /* BPFTOP_TASK_KFUNCS_H */
