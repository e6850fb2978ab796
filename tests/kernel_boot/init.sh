#!/bin/sh
# /init of the boot test's initramfs (tests/kernel_boot/boot.py fills in the @...@).
# Every line the test reads starts with "=== HAMODEL".
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
T=/sys/kernel/tracing
R=$T/rv
CS=/sys/devices/system/clocksource/clocksource0/current_clocksource

# Under TCG the kernel starts on the jiffies clocksource, where hrtimers have
# tick resolution: time nothing before the tsc is in charge.
for i in $(seq 1 60); do
	[ "$(cat $CS)" = tsc ] && break
	sleep 1
done
echo "=== HAMODEL clocksource $(cat $CS)"
echo "=== HAMODEL available_monitors $(cat $R/available_monitors | tr '\n' ' ')"

# tlob on the jobs: the monitor's own binding file, plus the markers as uprobe
# events and the sched events, so hamodel replay can read the same run.
echo mono > $T/trace_clock
echo 8192 > $T/buffer_size_kb
echo "p:hamodel/tlob_start /bin/jobs:@START@ id=%di:s32 budget_ns=%si:s64" >> $T/uprobe_events
echo "p:hamodel/tlob_stop /bin/jobs:@STOP@ id=%di:s32" >> $T/uprobe_events
echo 1 > $T/events/hamodel/enable
echo 1 > $T/events/sched/sched_switch/enable
echo 1 > $T/events/sched/sched_wakeup/enable
echo 1 > $T/events/rv/enable
echo printk > $R/monitors/tlob/reactors
echo tlob > $R/enabled_monitors
echo "p /bin/jobs:@START@ @STOP@ threshold=@BUDGET_NS@" > $R/monitors/tlob/monitor
echo "=== HAMODEL tlob binding $(cat $R/monitors/tlob/monitor)"
# the reactions stay in the log, off the console the jobs' lines go to
echo 1 > /proc/sys/kernel/printk
/bin/jobs @JOBS@ @BUDGET_NS@ > /tmp/jobs.txt
echo '!tlob' >> $R/enabled_monitors
echo 0 > $T/tracing_on
echo 7 > /proc/sys/kernel/printk
echo "=== HAMODEL JOBS BEGIN"
cat /tmp/jobs.txt
echo "=== HAMODEL JOBS END"
echo "=== HAMODEL tlob reactions $(dmesg | grep -c 'rv: monitor tlob')"
echo "=== HAMODEL TLOB TRACE BEGIN"
cat $T/trace
echo "=== HAMODEL TLOB TRACE END"

# stall: four busy loops on two CPUs for 3 s, a one-jiffy threshold (kernel command line)
echo 0 > $T/events/hamodel/enable
echo > $T/trace
echo 1 > $T/tracing_on
echo printk > $R/monitors/stall/reactors
echo 1 > /proc/sys/kernel/printk
echo stall > $R/enabled_monitors
for i in 1 2 3 4; do ( while :; do :; done ) & done
sleep 3
kill $(jobs -p) 2>/dev/null
echo 7 > /proc/sys/kernel/printk
echo '!stall' >> $R/enabled_monitors
echo 0 > $T/tracing_on
echo "=== HAMODEL STALL TRACE BEGIN"
grep _stall: $T/trace
echo "=== HAMODEL STALL TRACE END"
echo "=== HAMODEL stall reactions $(dmesg | grep -c 'rv: monitor stall')"

echo "=== HAMODEL dmesg problems $(dmesg | grep -c -E 'WARNING|BUG|Oops|Call Trace')"
dmesg | grep -E 'WARNING|BUG|Oops|Call Trace' | head -20
echo "=== HAMODEL DONE"
reboot -f
