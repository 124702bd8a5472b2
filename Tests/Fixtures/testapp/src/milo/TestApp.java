package milo;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A small application whose behaviour is chosen by its first argument; used by milo's tests and demo. */
public final class TestApp {
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "serve";
    switch (mode) {
      case "hello" -> {
        System.out.println("Hello from milo");
        System.out.println("Goodbye from milo");
      }
      case "exit" -> System.exit(Integer.parseInt(args[1]));
      case "sleep-exit" -> {
        System.out.println("sleeping " + args[1] + " ms");
        Thread.sleep(Long.parseLong(args[1]));
        System.out.println("exiting with " + args[2]);
        System.exit(Integer.parseInt(args[2]));
      }
      case "serve" -> serve(args.length > 1 ? Long.parseLong(args[1]) : 2000);
      case "ignore-int" -> ignoreInterrupt();
      case "oom" -> allocateForever();
      case "flood" -> flood(Long.parseLong(args[1]));
      case "binary" -> binary(Long.parseLong(args[1]), Long.parseLong(args[2]));
      case "longline" -> longLine(Integer.parseInt(args[1]));
      case "numbered" -> numbered(Integer.parseInt(args[1]), Long.parseLong(args.length > 2 ? args[2] : "0"));
      case "timestamps" -> timestamps(Integer.parseInt(args[1]), Long.parseLong(args[2]));
      case "prompt" -> prompt();
      case "prompt-timed" -> promptTimed();
      case "gated" -> gated(Integer.parseInt(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 0);
      case "both" -> both(Integer.parseInt(args[1]));
      case "paced" -> paced(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      case "limits" -> limits();
      case "throughput" -> throughput(Long.parseLong(args[1]));
      case "env" -> System.getenv().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
          .forEach(e -> System.out.println(e.getKey() + "=" + e.getValue()));
      case "signals" -> signals();
      case "busy" -> busy(Integer.parseInt(args[1]));
      case "hold" -> hold(Integer.parseInt(args[1]));
      case "threads" -> threads(Integer.parseInt(args[1]));
      case "write" -> write(args[1], args[2]);
      case "read" -> System.out.print(java.nio.file.Files.readString(java.nio.file.Path.of(args[1])));
      default -> {
        System.err.println("unknown mode " + mode);
        System.exit(2);
      }
    }
  }

  /** Writes `text` and a newline to `path` (a volume); on failure prints why and exits 1. */
  static void write(String path, String text) {
    try {
      java.nio.file.Files.writeString(java.nio.file.Path.of(path), text + "\n");
      System.out.println("wrote " + path);
    } catch (java.io.IOException e) {
      System.err.println("cannot write " + path + ": " + e);
      System.exit(1);
    }
  }

  /** The acceptance scenario: a banner, then a line every interval until interrupted. */
  static void serve(long intervalMillis) throws InterruptedException {
    // The hook runs beside the main thread; the lock keeps "Shutting down" the last line.
    final Object lock = new Object();
    final boolean[] stopping = {false};
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      synchronized (lock) {
        stopping[0] = true;
        System.out.println("Shutting down");
      }
    }));
    System.out.println("Starting application...");
    while (true) {
      Thread.sleep(intervalMillis);
      synchronized (lock) {
        if (!stopping[0]) System.out.println("Processing...");
      }
    }
  }

  @SuppressWarnings("removal")
  static void ignoreInterrupt() throws InterruptedException {
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> System.out.println("ignoring SIGINT"));
    System.out.println("running and ignoring SIGINT");
    while (true) {
      Thread.sleep(1000);
    }
  }

  static void allocateForever() {
    List<byte[]> hold = new ArrayList<>();
    System.out.println("allocating");
    while (true) {
      byte[] block = new byte[1 << 20];
      for (int i = 0; i < block.length; i += 4096) block[i] = 1;
      hold.add(block);
    }
  }

  /** Writes `total` bytes of numbered 100-byte lines. */
  static void flood(long total) throws Exception {
    OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
    byte[] line = new byte[100];
    long written = 0;
    long n = 0;
    while (written < total) {
      String prefix = String.format("%012d ", n++);
      byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(p, 0, line, 0, p.length);
      for (int i = p.length; i < 99; i++) line[i] = (byte) ('a' + (i % 26));
      line[99] = '\n';
      int len = (int) Math.min(line.length, total - written);
      out.write(line, 0, len);
      written += len;
    }
    out.flush();
  }

  static void binary(long total, long seed) throws Exception {
    OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
    Random random = new Random(seed);
    byte[] chunk = new byte[1 << 16];
    long written = 0;
    while (written < total) {
      random.nextBytes(chunk);
      int len = (int) Math.min(chunk.length, total - written);
      out.write(chunk, 0, len);
      written += len;
    }
    out.flush();
  }

  static void longLine(int length) throws Exception {
    OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
    for (int i = 0; i < length; i++) out.write('a' + (i % 26));
    out.flush();
  }

  static void numbered(int count, long delayMicros) throws Exception {
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false);
    for (int i = 1; i <= count; i++) {
      out.printf("line %07d%n", i);
      if (delayMicros > 0) {
        out.flush();
        Thread.sleep(delayMicros / 1000, (int) ((delayMicros % 1000) * 1000));
      }
    }
    out.flush();
  }

  /** Prints `count` lines carrying the wall-clock time they were written, in nanoseconds. */
  static void timestamps(int count, long intervalMicros) throws Exception {
    for (int i = 0; i < count; i++) {
      java.time.Instant now = java.time.Instant.now();
      System.out.println("ts " + (now.getEpochSecond() * 1_000_000_000L + now.getNano()));
      Thread.sleep(intervalMicros / 1000, (int) ((intervalMicros % 1000) * 1000));
    }
  }

  static void prompt() throws InterruptedException {
    System.out.print("Enter name: ");
    System.out.flush();
    Thread.sleep(60_000);
  }

  /** Like `prompt`, and records in /tmp/prompted-at the wall-clock time (ns) just before printing. */
  static void promptTimed() throws Exception {
    java.time.Instant now = java.time.Instant.now();
    System.out.print("Enter name: ");
    System.out.flush();
    java.nio.file.Path tmp = java.nio.file.Path.of("/tmp/prompted-at.tmp");
    java.nio.file.Files.writeString(tmp, Long.toString(now.getEpochSecond() * 1_000_000_000L + now.getNano()));
    java.nio.file.Files.move(tmp, java.nio.file.Path.of("/tmp/prompted-at"));
    Thread.sleep(60_000);
  }

  /**
   * Prints "ready", waits for /tmp/go, prints `count` lines exactly as `numbered` does (at full
   * speed, or paced like `paced count batch` when `batch` > 0), creates /tmp/written, waits for
   * /tmp/go2, prints "still running" and idles until stopped.
   */
  static void gated(int count, int batch) throws Exception {
    System.out.println("ready");
    System.out.flush();
    awaitFile("/tmp/go");
    if (batch > 0) {
      paced(count, batch);
    } else {
      numbered(count, 0);
    }
    java.nio.file.Files.createFile(java.nio.file.Path.of("/tmp/written"));
    awaitFile("/tmp/go2");
    System.out.println("still running");
    System.out.flush();
    while (true) {
      Thread.sleep(1000);
    }
  }

  static void awaitFile(String path) throws InterruptedException {
    java.io.File file = new java.io.File(path);
    while (!file.exists()) {
      Thread.sleep(10);
    }
  }

  /**
   * Prints the same lines as `numbered count`, flushing after every `batch` lines and then
   * sleeping 1 ms (Java 17 sleeps whole milliseconds, so `numbered`'s per-line delay is at least
   * 1 ms a line): about `batch` lines per millisecond.
   */
  static void paced(int count, int batch) throws Exception {
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false);
    for (int i = 1; i <= count; i++) {
      out.printf("line %07d%n", i);
      if (i % batch == 0) {
        out.flush();
        Thread.sleep(1);
      }
    }
    out.flush();
  }

  /** Writes `count` lines to stdout and to stderr, alternating: "out N" and "err N". */
  static void both(int count) {
    for (int i = 1; i <= count; i++) {
      System.out.println("out " + i);
      System.err.println("err " + i);
    }
    System.out.flush();
    System.err.flush();
  }

  static void limits() {
    Runtime runtime = Runtime.getRuntime();
    System.out.println("availableProcessors=" + runtime.availableProcessors());
    System.out.println("maxMemory=" + runtime.maxMemory());
  }

  /**
   * Writes `total` bytes of 100-byte lines straight to file descriptor 1 in 65,500-byte writes
   * (655 whole lines each), with no per-line formatting: a producer fast enough that the log path,
   * not the JVM, limits a throughput benchmark.
   */
  static void throughput(long total) throws Exception {
    byte[] block = new byte[655 * 100];
    for (int line = 0; line < 655; line++) {
      int base = line * 100;
      for (int i = 0; i < 99; i++) block[base + i] = (byte) ('a' + ((line + i) % 26));
      block[base + 99] = '\n';
    }
    java.io.FileOutputStream out = new java.io.FileOutputStream(java.io.FileDescriptor.out);
    long written = 0;
    while (written < total) {
      int len = (int) Math.min(block.length, total - written);
      out.write(block, 0, len);
      written += len;
    }
  }

  /** Handles SIGHUP and SIGUSR1 (printing "got SIG<name>") and keeps running; SIGUSR2 is the VM's. */
  @SuppressWarnings("removal")
  static void signals() throws InterruptedException {
    for (String name : new String[] {"HUP", "USR1", "USR2"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), s -> System.out.println("got SIG" + s.getName()));
        System.out.println("handling SIG" + name);
      } catch (IllegalArgumentException e) {
        System.out.println("cannot handle SIG" + name + ": " + e.getMessage());
      }
    }
    System.out.println("signal handlers ready");
    while (true) {
      Thread.sleep(1000);
    }
  }

  /** Spins `count` threads forever (a CPU-bound load for throttling and stats). */
  static void busy(int count) throws InterruptedException {
    for (int i = 0; i < count; i++) {
      Thread t = new Thread(() -> {
        long x = 0;
        while (true) x = x * 31 + 7;
      });
      t.setDaemon(true);
      t.start();
    }
    System.out.println("busy with " + count + " threads");
    while (true) {
      Thread.sleep(1000);
    }
  }

  /** Allocates and touches `megabytes` MiB, says so, and holds it. */
  static void hold(int megabytes) throws InterruptedException {
    List<byte[]> held = new ArrayList<>();
    for (int i = 0; i < megabytes; i++) {
      byte[] block = new byte[1 << 20];
      for (int j = 0; j < block.length; j += 4096) block[j] = 1;
      held.add(block);
    }
    System.out.println("holding " + held.size() + " MiB");
    while (true) {
      Thread.sleep(1000);
    }
  }

  /** Starts `count` sleeping threads and reports how many could be started. */
  static void threads(int count) throws InterruptedException {
    int started = 0;
    try {
      for (; started < count; started++) {
        Thread t = new Thread(() -> {
          try {
            Thread.sleep(Long.MAX_VALUE);
          } catch (InterruptedException e) {
            // exit
          }
        });
        t.setDaemon(true);
        t.start();
      }
    } catch (Throwable e) {
      System.out.println("thread start failed: " + e);
    }
    System.out.println("started " + started + " threads");
    while (true) {
      Thread.sleep(1000);
    }
  }
}
