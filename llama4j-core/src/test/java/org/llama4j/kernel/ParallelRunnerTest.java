package org.llama4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelRunnerTest {

    @Test
    void everyIndexRunsExactlyOnceAcrossManyLoops() {
        try (ParallelRunner runner = new ParallelRunner(4)) {
            for (int n : new int[] {1, 7, 100, 1001}) {
                for (int repeat = 0; repeat < 200; repeat++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    runner.parallelFor(n, 1, (s, e) -> {
                        for (int i = s; i < e; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "n " + n + " index " + i);
                    }
                }
            }
        }
    }

    @Test
    void workIsSharedWithWorkerThreads() {
        try (ParallelRunner runner = new ParallelRunner(3)) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            for (int repeat = 0; repeat < 100 && seen.size() < 2; repeat++) {
                runner.parallelFor(64, 1, (s, e) -> {
                    seen.add(Thread.currentThread());
                    long until = System.nanoTime() + 200_000;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                });
            }
            assertTrue(seen.size() >= 2, "no worker thread ever ran a chunk");
        }
    }

    @Test
    void exceptionsReachTheCallerAndTheRunnerStaysUsable() {
        try (ParallelRunner runner = new ParallelRunner(3)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> runner.parallelFor(100, 1, (s, end) -> {
                if (s <= 50 && 50 < end) {
                    throw new IllegalStateException("chunk failed");
                }
            }));
            assertEquals("chunk failed", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            runner.parallelFor(10, 1, (s, end) -> hits.addAndGet(s, end - s));
            int total = 0;
            for (int i = 0; i < 10; i++) {
                total += hits.get(i);
            }
            assertEquals(10, total);
        }
    }

    @Test
    void nestedLoopsRunOnTheirCallerInsteadOfDeadlocking() {
        try (ParallelRunner runner = new ParallelRunner(3)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(40 * 30);
            runner.parallelFor(40, 1, (s, e) -> {
                for (int i = s; i < e; i++) {
                    int outer = i;
                    Thread caller = Thread.currentThread();
                    runner.parallelFor(30, 1, (s2, e2) -> {
                        assertSame(caller, Thread.currentThread());
                        for (int j = s2; j < e2; j++) {
                            hits.incrementAndGet(outer * 30 + j);
                        }
                    });
                }
            });
            for (int i = 0; i < hits.length(); i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void singleThreadRunnerAndClosedRunnerRunInline() {
        ParallelRunner single = new ParallelRunner(1);
        Thread caller = Thread.currentThread();
        single.parallelFor(100, 1, (s, e) -> {
            assertSame(caller, Thread.currentThread());
            assertEquals(0, s);
            assertEquals(100, e);
        });
        ParallelRunner closed = new ParallelRunner(2);
        closed.close();
        closed.parallelFor(10, 1, (s, e) -> assertSame(caller, Thread.currentThread()));
        assertThrows(IllegalArgumentException.class, () -> new ParallelRunner(0));
    }
}
