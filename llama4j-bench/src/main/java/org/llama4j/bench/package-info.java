/**
 * Benchmarks: JMH microbenchmarks of kernels and the tokenizer, each beside a peer measured in the same run.
 * Run with {@code java -cp 'llama4j-bench/target/llama4j-bench.jar:llama4j-bench/target/lib/*' org.openjdk.jmh.Main}.
 */
package org.llama4j.bench;
