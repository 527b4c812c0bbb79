/** @type {import('tailwindcss').Config} */
export default {
  content: ['./index.html', './src/**/*.{ts,tsx}'],
  darkMode: 'class',
  theme: {
    extend: {
      colors: {
        brand: { DEFAULT: '#2f6f5e', fg: '#ffffff', soft: '#e3f0ec', dark: '#7fc4ae' },
      },
    },
  },
  plugins: [],
};
