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
      case "serve" -> serve(args.length > 1 ? Long.parseLong(args[1]) : 2000);
      case "ignore-int" -> ignoreInterrupt();
      case "oom" -> allocateForever();
      case "flood" -> flood(Long.parseLong(args[1]));
      case "binary" -> binary(Long.parseLong(args[1]), Long.parseLong(args[2]));
      case "longline" -> longLine(Integer.parseInt(args[1]));
      case "numbered" -> numbered(Integer.parseInt(args[1]), Long.parseLong(args.length > 2 ? args[2] : "0"));
      case "timestamps" -> timestamps(Integer.parseInt(args[1]), Long.parseLong(args[2]));
      case "prompt" -> prompt();
      case "limits" -> limits();
      case "env" -> System.getenv().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
          .forEach(e -> System.out.println(e.getKey() + "=" + e.getValue()));
      default -> {
        System.err.println("unknown mode " + mode);
        System.exit(2);
      }
    }
  }

  /** The acceptance scenario: a banner, then a line every interval until interrupted. */
  static void serve(long intervalMillis) throws InterruptedException {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("Shutting down")));
    System.out.println("Starting application...");
    while (true) {
      Thread.sleep(intervalMillis);
      System.out.println("Processing...");
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

  static void limits() {
    Runtime runtime = Runtime.getRuntime();
    System.out.println("availableProcessors=" + runtime.availableProcessors());
    System.out.println("maxMemory=" + runtime.maxMemory());
  }
}
