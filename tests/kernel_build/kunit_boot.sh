#!/bin/bash
# Boot the generated monitors' KUnit cases in a real kernel under qemu (a manual check).
#
#   RVKIT_WORK=/tmp/rvkit-ci python3 tests/kernel_build/build_check.py   # wires the tree
#   RVKIT_WORK=/tmp/rvkit-ci [RVKIT_HZ=1000] bash tests/kernel_build/kunit_boot.sh [RUNS] \
#       [-- KERNEL ARGS]
#
# Takes the tree build_check.py prepared and wired ($RVKIT_WORK/src: every generated
# monitor in kernel/trace/rv/monitors/, its KUnit lines in rv_monitors_test.c), builds a
# tinyconfig kernel with KUnit and every monitor that builds on 6.12 built in (and ACPI:
# qemu's HPET makes hrtimers high-resolution when the cases run)
# ($RVKIT_WORK/kunit-boot[-hzN], HZ=250 or RVKIT_HZ), boots it RUNS times (default 1)
# under qemu (TCG, 1 and 2 CPUs in turn) and prints the rv_mon suite's summary of each
# run.  Exit 1 when a run has a failed case, a WARNING, a BUG or no summary.
set -euo pipefail
W=${RVKIT_WORK:-/tmp/rvkit-ci}
SRC=$W/src
HZ_OPTION=${RVKIT_HZ:+-e HZ_$RVKIT_HZ}
O=$W/kunit-boot${RVKIT_HZ:+-hz$RVKIT_HZ}
RUNS=${1:-1}
shift || true
[ "${1:-}" = "--" ] && shift
EXTRA="$*"
MONITORS="TLOB STALL WIP WWNR SCO SNROC SSSW STS OPID NRP SCPD SNCID TSS"

grep -q 'monitors/tlob/tlob_kunit.c' "$SRC/kernel/trace/rv/rv_monitors_test.c" || {
	echo "$SRC is not wired: run tests/kernel_build/build_check.py first"; exit 2; }
mkdir -p "$O"
if [ ! -f "$O/.config" ]; then
	make -s -C "$SRC" O="$O" tinyconfig
	on=""
	for m in $MONITORS; do on="$on -e RV_MON_$m"; done
	# shellcheck disable=SC2086
	"$SRC/scripts/config" --file "$O/.config" \
		-e 64BIT -e ACPI -e PRINTK -e PRINTK_TIME -e TTY -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
		-e BINFMT_ELF -e PROC_FS -e SYSFS -e FUTEX -e HIGH_RES_TIMERS -e FTRACE -e TRACING \
		-e KUNIT -e RV -e RV_REACTORS -e RV_REACT_PRINTK -e RV_MONITORS_KUNIT_TEST \
		--set-val RV_PER_TASK_MONITORS 8 -e SMP -d PREEMPT_NONE -e PREEMPT \
		-e IRQSOFF_TRACER -e PREEMPT_TRACER -e PERF_EVENTS -e UPROBES -e UPROBE_EVENTS \
		-e RV_MON_SCHED $on $HZ_OPTION
	make -s -C "$SRC" O="$O" olddefconfig
fi
for m in $MONITORS; do
	grep -q "^CONFIG_RV_MON_$m=y" "$O/.config" || { echo "CONFIG_RV_MON_$m did not stick"; exit 2; }
done
start=$(date +%s)
make -s -C "$SRC" O="$O" -j"${RVKIT_JOBS:-$(nproc)}" bzImage > "$W/kunit-boot-build.log" 2>&1 \
	|| { grep -E 'error' "$W/kunit-boot-build.log" | head -20; exit 2; }
echo "bzImage: $(( $(date +%s) - start )) s ($(grep '^CONFIG_HZ=' "$O/.config"))"
bad=0
for i in $(seq 1 "$RUNS"); do
	cpus=$(( (i - 1) % 2 + 1 ))
	log=$W/kunit-boot-$i.log
	timeout 300 qemu-system-x86_64 -kernel "$O/arch/x86/boot/bzImage" -nographic -no-reboot \
		-m 256M -smp "$cpus" -append "console=ttyS0 kunit.enable=1 panic=-1 $EXTRA" \
		> "$log" 2>&1 || true
	sed -i 's/\r$//' "$log"
	summary=$(grep -a '# rv_mon: ' "$log" | sed 's/.*# rv_mon: //' || true)
	warnings=$(grep -a -c -E 'WARNING|BUG|Oops' "$log" || true)
	echo "run $i ($cpus CPU): ${summary:-no summary} warnings=$warnings"
	grep -a -E '^\[ *[0-9.]+\] +not ok [0-9]+ rv_' "$log" || true
	case "$summary" in *" fail:0 "*) ;; *) bad=1 ;; esac
	[ "$warnings" = 0 ] || bad=1
done
exit $bad
