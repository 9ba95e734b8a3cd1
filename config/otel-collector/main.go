// queue-slot starts the OpenTelemetry Collector with a persistent-queue directory of its own that outlives the
// container: each replica of the otel-collector service claims the lowest free slot of the shared queue volume
// (an exclusive flock on slot-N.lock, held while the collector runs and released by the kernel however the
// process ends) and gives the collector slot-N/ as OTELCOL_QUEUE_DIR. A recreated container (a config change,
// an image update, `down`/`up`) claims the same slot again and delivers what its predecessor acknowledged;
// `just scale-collector N` gives N replicas slots 1..N.
//
// On SIGTERM it first lets the collector drain its queues (its own metric otelcol_exporter_queue_size, for up
// to OTELCOL_DRAIN_SECONDS) and only then stops it, so a replica removed by a scale-down hands over nothing.
// What is still queued when the time is up stays in its slot for the next replica that claims it.
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const maxSlots = 64

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "queue-slot: "+format+"\n", args...)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// claim locks the lowest free slot under root and returns its number and the open lock file.
func claim(root string) (int, *os.File, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return 0, nil, err
	}
	for slot := 1; slot <= maxSlots; slot++ {
		f, err := os.OpenFile(filepath.Join(root, fmt.Sprintf("slot-%d.lock", slot)), os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			return 0, nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			return slot, f, nil
		}
		f.Close()
	}
	return 0, nil, fmt.Errorf("all %d slots of %s are in use", maxSlots, root)
}

// idleSlots names the slots no running replica holds whose directory still has queued data.
func idleSlots(root string, own int) []string {
	var out []string
	for slot := 1; slot <= maxSlots; slot++ {
		if slot == own {
			continue
		}
		dir := filepath.Join(root, fmt.Sprintf("slot-%d", slot))
		size := dirSize(dir)
		if size == 0 {
			continue
		}
		f, err := os.OpenFile(dir+".lock", os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			out = append(out, fmt.Sprintf("slot-%d (%d bytes)", slot, size))
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		}
		f.Close()
	}
	return out
}

func dirSize(dir string) int64 {
	var total int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			total += info.Size()
		}
	}
	return total
}

// queued sums otelcol_exporter_queue_size over every exporter from the collector's own metrics.
func queued(url string) (float64, error) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var total float64
	found := false
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, "otelcol_exporter_queue_size") {
			continue
		}
		fields := strings.Fields(line)
		value, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			total += value
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("no otelcol_exporter_queue_size in %s", url)
	}
	return total, scanner.Err()
}

// drain waits until the collector's queues are empty twice in a row, or the time is up.
func drain(url string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	empty := 0
	for time.Now().Before(deadline) {
		n, err := queued(url)
		switch {
		case err != nil:
			logf("drain: cannot read the queue size (%v); stopping the collector now", err)
			return
		case n == 0:
			empty++
			if empty >= 2 {
				logf("drain: queues empty, stopping the collector")
				return
			}
		default:
			empty = 0
		}
		time.Sleep(500 * time.Millisecond)
	}
	n, _ := queued(url)
	logf("drain: %.0f items still queued after %s; they stay in this slot for the next replica", n, limit)
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		logf("usage: queue-slot [--] COLLECTOR [ARGS...]")
		os.Exit(2)
	}
	root := envOr("OTELCOL_QUEUE_ROOT", "/var/lib/otelcol/queue")
	slot, lock, err := claim(root)
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	defer lock.Close()
	dir := filepath.Join(root, fmt.Sprintf("slot-%d", slot))
	logf("this replica's persistent queue is %s", dir)
	if idle := idleSlots(root, slot); len(idle) > 0 {
		logf("not delivered yet, waiting for a replica to claim them: %s (`just scale-collector N` with N >= their number)",
			strings.Join(idle, ", "))
	}
	drainFor, err := time.ParseDuration(envOr("OTELCOL_DRAIN_SECONDS", "20") + "s")
	if err != nil {
		logf("OTELCOL_DRAIN_SECONDS must be a number of seconds: %v", err)
		os.Exit(2)
	}
	metrics := envOr("OTELCOL_METRICS_URL", "http://127.0.0.1:8888/metrics")

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "OTELCOL_QUEUE_DIR="+dir)
	if err := cmd.Start(); err != nil {
		logf("cannot start %s: %v", args[0], err)
		os.Exit(1)
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case sig := <-signals:
		if drainFor > 0 {
			drain(metrics, drainFor)
		}
		cmd.Process.Signal(sig)
		err = <-done
	}
	if exit, ok := err.(*exec.ExitError); ok {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
}
